"""Help > Keyboard shortcuts: a small non-blocking dialog (opened with open(), never exec())."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QGridLayout, QLabel, QVBoxLayout, QWidget

SHORTCUTS: list[tuple[str, str]] = [
    ("Ctrl+Shift+C", "Claim the selected handoff"),
    ("Ctrl+Shift+R", "Release it back to the queue"),
    ("Ctrl+Shift+D", "Resolve (done)"),
    ("Ctrl+Alt+D", "Resolve with outcome and review (1-5 outcome, Enter resolves, Alt+S skips)"),
    ("Ctrl+Enter", "Send the reply"),
    ("Ctrl+Shift+U", "Retry this conversation's unsent (refused) replies"),
    ("Ctrl+F", "Focus the queue filter"),
    ("Ctrl+E", "Toggle My expertise / All"),
    ("Ctrl+L", "Focus the queue"),
    ("Up / Down", "Move through the queue"),
    ("Ctrl+K", "Assistant command box (/spec, /subs, /acc, /compare, /sum, /draft)"),
    ("Esc", "Leave the command box (back to the reply)"),
    ("Up / Down (in the box)", "Earlier commands"),
    ("Ctrl+H", "History: find resolved and older conversations, reopen one"),
    ("Ctrl+Shift+M", "Dashboard: handoff quality (the seven measures, per day)"),
    ("F1", "This list"),
]


class ShortcutsDialog(QDialog):
    """Lists every shortcut the console binds."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("shortcutsDialog")
        self.setWindowTitle("Keyboard shortcuts")
        grid = QGridLayout()
        grid.setHorizontalSpacing(18)
        grid.setVerticalSpacing(6)
        for row, (keys, what) in enumerate(SHORTCUTS):
            k = QLabel(keys)
            k.setObjectName("kbd")
            grid.addWidget(k, row, 0)
            grid.addWidget(QLabel(what), row, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addWidget(buttons)
