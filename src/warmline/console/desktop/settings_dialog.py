"""Settings (Ctrl+,): appearance, notifications, quiet hours, sound, the tray.

OK and Apply store the choices (``DesktopSettings.save_preferences``), which re-themes
the open window and updates the notifier at once: nothing needs a restart.
"""

from __future__ import annotations

from PySide6.QtCore import QTime
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from warmline.console.desktop.settings import THEMES, DesktopSettings, Kind, Preferences

THEME_LABELS = {"system": "Follow the system", "light": "Light", "dark": "Dark"}


class SettingsDialog(QDialog):
    def __init__(self, settings: DesktopSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self.setWindowTitle("Warmline settings")
        self.settings = settings
        prefs = settings.preferences()

        self.theme = QComboBox()
        self.theme.setObjectName("theme")
        for key in THEMES:
            self.theme.addItem(THEME_LABELS[key], key)
        self.font_size = QDoubleSpinBox()
        self.font_size.setObjectName("fontSize")
        self.font_size.setRange(7.0, 24.0)
        self.font_size.setSingleStep(1.0)
        self.font_size.setDecimals(1)
        self.font_size.setSuffix(" pt")
        appearance = QGroupBox("Appearance")
        form = QFormLayout(appearance)
        form.addRow("Theme", self.theme)
        form.addRow("Text size", self.font_size)

        notifications = QGroupBox("Notify me when")
        box = QVBoxLayout(notifications)
        self.kinds: dict[str, QCheckBox] = {}
        for kind in Kind.ALL:
            check = QCheckBox(Kind.LABELS[kind])
            check.setObjectName(f"notify_{kind}")
            self.kinds[kind] = check
            box.addWidget(check)
        self.quiet = QCheckBox("Quiet hours: no pop-ups or sound from")
        self.quiet.setObjectName("quietHours")
        self.quiet_start = QTimeEdit()
        self.quiet_start.setDisplayFormat("HH:mm")
        self.quiet_end = QTimeEdit()
        self.quiet_end.setDisplayFormat("HH:mm")
        quiet_row = QHBoxLayout()
        quiet_row.addWidget(self.quiet)
        quiet_row.addWidget(self.quiet_start)
        quiet_row.addWidget(QLabel("to"))
        quiet_row.addWidget(self.quiet_end)
        quiet_row.addStretch(1)
        box.addLayout(quiet_row)
        self.sound = QCheckBox("Play a sound with each notification")
        self.sound.setObjectName("sound")
        box.addWidget(self.sound)

        window = QGroupBox("Window")
        wbox = QVBoxLayout(window)
        self.close_to_tray = QCheckBox("Closing the window keeps Warmline running in the tray")
        self.close_to_tray.setObjectName("closeToTray")
        wbox.addWidget(self.close_to_tray)

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok
            | QDialogButtonBox.StandardButton.Apply
            | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.apply_button = buttons.button(QDialogButtonBox.StandardButton.Apply)
        self.apply_button.clicked.connect(self.apply)
        layout = QVBoxLayout(self)
        for w in (appearance, notifications, window):
            layout.addWidget(w)
        layout.addWidget(buttons)
        self.load(prefs)

    def load(self, prefs: Preferences) -> None:
        self.theme.setCurrentIndex(max(0, self.theme.findData(prefs.theme)))
        self.font_size.setValue(prefs.font_pt)
        for kind, check in self.kinds.items():
            check.setChecked(prefs.notify.get(kind, True))
        self.quiet.setChecked(prefs.quiet_enabled)
        self.quiet_start.setTime(QTime.fromString(prefs.quiet_start, "HH:mm"))
        self.quiet_end.setTime(QTime.fromString(prefs.quiet_end, "HH:mm"))
        self.sound.setChecked(prefs.sound)
        self.close_to_tray.setChecked(prefs.close_to_tray)

    def preferences(self) -> Preferences:
        return Preferences(
            theme=str(self.theme.currentData()),
            font_pt=float(self.font_size.value()),
            notify={k: c.isChecked() for k, c in self.kinds.items()},
            quiet_enabled=self.quiet.isChecked(),
            quiet_start=self.quiet_start.time().toString("HH:mm"),
            quiet_end=self.quiet_end.time().toString("HH:mm"),
            sound=self.sound.isChecked(),
            close_to_tray=self.close_to_tray.isChecked(),
        )

    def apply(self) -> None:
        self.settings.save_preferences(self.preferences())

    def accept(self) -> None:
        self.apply()
        super().accept()
