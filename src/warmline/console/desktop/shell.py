"""Everything the installed app adds around one console window, attached from outside
(the window's own code stays as it is): the Warmline menu (Settings Ctrl+,, profiles,
Sign out, Quit), the tray with its count, notifications, close-to-tray, the live theme,
and the remembered layout.

Closing the window hides it to the tray (a one-time hint says so) while the session and
its event stream keep running; Quit (tray, menu, Ctrl+Q) takes the console's one
shutdown path. Sign out and profile switches end this console too and leave
``next_action`` for the launcher, which signs in again.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QMainWindow, QMenu, QMessageBox

from warmline.console.client import ConnectionState
from warmline.console.desktop.appearance import Appearance, restore_layout, save_layout
from warmline.console.desktop.credentials import Profile, Profiles
from warmline.console.desktop.notify import Notification, Notifier, tap_events
from warmline.console.desktop.settings import DesktopSettings, Preferences
from warmline.console.desktop.settings_dialog import SettingsDialog
from warmline.console.desktop.tray import Tray, app_icon
from warmline.domain.models import HandoffStatus

TRAY_HINT = (
    "Warmline keeps running in the tray so you hear about new handoffs. "
    "Use Quit in the tray menu (or Ctrl+Q) to stop it."
)


@dataclass(frozen=True)
class NextAction:
    """What the launcher does after this console ended: sign out, switch, add a hub, re-auth."""

    kind: str  # "sign_out" | "switch" | "add" | "reauth"
    profile: Profile | None = None


class DesktopShell(QObject):
    def __init__(
        self,
        settings: DesktopSettings,
        appearance: Appearance,
        *,
        profile: Profile | None = None,
        assume_tray: bool | None = None,
        group_seconds: float = 2.0,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.settings = settings
        self.appearance = appearance
        self.profile = profile
        self.profiles = Profiles(settings.qsettings)
        self.tray_available = Tray.available() if assume_tray is None else assume_tray
        self.group_seconds = group_seconds
        self.window: QMainWindow | None = None
        self.tray: Tray | None = None
        self.notifier: Notifier | None = None
        self.quitting = False
        self.next_action: NextAction | None = None
        self.hint_box: QMessageBox | None = None
        self.settings_dialog: SettingsDialog | None = None

    # --- attaching to the console window ---------------------------------------------------

    def attach(self, window: QMainWindow) -> None:
        """Called by console_main before the session gets going (window_ready)."""
        self.window = window
        session = window.session  # type: ignore[attr-defined]
        window.setWindowIcon(app_icon())
        if self.profile is not None:
            window.setWindowTitle(f"Warmline — {self.profile.label}")
        self.appearance.attach(window)
        restore_layout(window, self.settings)
        prefs = self.settings.preferences()
        self.notifier = Notifier(
            session, prefs, window_active=self._window_active, group_seconds=self.group_seconds, parent=self
        )
        tap_events(session, self.notifier.on_event)
        self.tray = Tray(self)
        self.tray.open_requested.connect(self.show_window)
        self.tray.quit_requested.connect(self.quit)
        self.tray.notification_clicked.connect(self.open_notification)
        self.notifier.raised.connect(self._on_notification)
        self.notifier.unread_changed.connect(lambda _n: self.update_counts())
        if self.tray_available:
            self.tray.show()
        # the badge is recounted at most every 250 ms (a busy queue changes many times a second)
        self._count_timer = QTimer(self)
        self._count_timer.setSingleShot(True)
        self._count_timer.setInterval(250)
        self._count_timer.timeout.connect(self.update_counts)
        queue = session.queue
        for signal in (queue.rowsInserted, queue.rowsRemoved, queue.modelReset, queue.dataChanged):
            signal.connect(self._schedule_count)
        session.connection_changed.connect(self._on_connection)
        self.settings.changed.connect(self._on_preferences)
        self._build_menu(window)
        window.installEventFilter(self)

    def _build_menu(self, window: QMainWindow) -> None:
        menu = QMenu("&Warmline", window)
        menu.setObjectName("warmlineMenu")
        self.settings_action = self._add(menu, "&Settings…", "Ctrl+,", self.show_settings)
        self.profiles_menu = menu.addMenu("Switch &profile")
        self.profiles_menu.aboutToShow.connect(self._fill_profiles)
        self._fill_profiles()
        self.add_hub_action = self._add(menu, "&Add a hub or account…", "", lambda: self._end("add"))
        menu.addSeparator()
        self.sign_out_action = self._add(menu, "Sign &out", "", self.sign_out)
        self.sign_out_action.setEnabled(self.profile is not None)
        menu.addSeparator()
        self.quit_action = self._add(menu, "&Quit", "Ctrl+Q", self.quit)
        bar = window.menuBar()
        first = bar.actions()[0] if bar.actions() else None
        bar.insertMenu(first, menu) if first is not None else bar.addMenu(menu)
        self.menu = menu

    def _add(self, menu: QMenu, text: str, shortcut: str, slot) -> QAction:
        action = QAction(text, menu)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            assert self.window is not None
            self.window.addAction(action)
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _fill_profiles(self) -> None:
        self.profiles_menu.clear()
        for p in self.profiles.all():
            action = self.profiles_menu.addAction(p.label)
            action.setCheckable(True)
            action.setChecked(self.profile is not None and p.id == self.profile.id)
            action.triggered.connect(lambda _checked=False, p=p: self.switch_to(p))
        if not self.profiles_menu.actions():
            self.profiles_menu.addAction("(no saved profiles)").setEnabled(False)

    # --- counts and notifications ------------------------------------------------------------

    def waiting_count(self) -> int:
        assert self.window is not None
        queue = self.window.session.queue  # type: ignore[attr-defined]
        return sum(1 for r in queue.rows() if r.summary.status == HandoffStatus.QUEUED and r.takeable)

    def _schedule_count(self, *_args: object) -> None:
        if not self._count_timer.isActive():
            self._count_timer.start()

    def update_counts(self, *_args: object) -> None:
        if self.tray is not None and self.notifier is not None:
            self.tray.set_counts(self.waiting_count(), self.notifier.unread)

    def _on_notification(self, note: Notification) -> None:
        assert self.tray is not None
        prefs = self.settings.preferences()
        self.tray.notify(note, sound=prefs.sound)
        if not self.tray_available and self.window is not None and not note.quiet:
            QApplication.alert(self.window)  # no tray here: at least flash the taskbar entry

    def open_notification(self, note: Notification) -> None:
        """Bring the window forward and select the notification's handoff."""
        self.show_window()
        if note.handoff_id is None or self.window is None:
            return
        panel = self.window.queue_panel  # type: ignore[attr-defined]
        if not panel.select_id(note.handoff_id):
            panel.set_only_expertise(False)
            if not panel.select_id(note.handoff_id):
                self.window.session.select(note.handoff_id)  # type: ignore[attr-defined]

    def _window_active(self) -> bool:
        w = self.window
        return bool(w is not None and w.isVisible() and not w.isMinimized() and w.isActiveWindow())

    # --- window, tray, quit ------------------------------------------------------------------

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if obj is self.window:
            if event.type() == QEvent.Type.Close and not self.quitting:
                if self.tray_available and self.settings.preferences().close_to_tray:
                    event.ignore()
                    self.hide_to_tray()
                    return True
                self.quitting = True
                self._save_layout()
            elif event.type() == QEvent.Type.WindowActivate and self.notifier is not None:
                self.notifier.mark_read()
        return False

    def hide_to_tray(self) -> None:
        assert self.window is not None
        self._save_layout()
        self.window.hide()
        if not self.settings.flag("tray_hint_shown"):
            self.settings.set_flag("tray_hint_shown")
            if self.tray is not None and self.tray_available:
                self.tray.icon.showMessage("Warmline is still running", TRAY_HINT, app_icon(), 10000)

    def show_window(self) -> None:
        if self.window is None:
            return
        self.window.show()
        if self.window.isMinimized():
            self.window.showNormal()
        self.window.raise_()
        self.window.activateWindow()
        if self.notifier is not None:
            self.notifier.mark_read()

    def quit(self) -> None:
        """The real way out: the console's shutdown path (its window's close)."""
        if self.window is None:
            return
        self._save_layout()
        self.quitting = True
        if self.tray is not None:
            self.tray.hide()
        self.window.close()

    def _save_layout(self) -> None:
        if self.window is not None:
            save_layout(self.window, self.settings)

    def _end(self, kind: str, profile: Profile | None = None) -> None:
        self.next_action = NextAction(kind, profile)
        self.quit()

    def sign_out(self) -> None:
        self._end("sign_out", self.profile)

    def switch_to(self, profile: Profile) -> None:
        if self.profile is None or profile.id != self.profile.id:
            self._end("switch", profile)

    def _on_connection(self, state: str, detail: str) -> None:
        # a remembered token the hub no longer accepts: back to the sign-in dialog
        refused = state == ConnectionState.UNAUTHORIZED.value
        if refused and self.profile is not None and self.next_action is None:
            self._end("reauth", self.profile)

    # --- settings ----------------------------------------------------------------------------

    def show_settings(self) -> None:
        """Non-blocking (open(), never exec(): qasync #59)."""
        if self.settings_dialog is None:
            self.settings_dialog = SettingsDialog(self.settings, self.window)
        else:
            self.settings_dialog.load(self.settings.preferences())
        self.settings_dialog.open()

    def detach(self) -> None:
        """After the console ended: stop listening to the settings, take the tray icon away."""
        with contextlib.suppress(RuntimeError, TypeError):
            self.settings.changed.disconnect(self._on_preferences)
        if self.tray is not None:
            self.tray.hide()

    def _on_preferences(self, prefs: Preferences) -> None:
        if self.notifier is not None:
            self.notifier.set_preferences(prefs)
