"""The desktop app's preferences, in one INI file through QSettings.

The file sits in the user's config folder (platformdirs: ``~/.config/warmline/desktop.ini``
on Linux, ``%LOCALAPPDATA%\\warmline\\desktop.ini`` on Windows, ``~/Library/Application
Support/warmline/desktop.ini`` on macOS); ``WARMLINE_CONFIG_DIR`` moves it (tests do).
Tokens are never written here: they go to the OS keyring (``credentials``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from PySide6.QtCore import QByteArray, QObject, QSettings, Signal

THEMES = ("system", "light", "dark")
FONT_SIZES = (8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 16.0)
DEFAULT_FONT_PT = 10.0


class Kind:
    """Notification kinds (each can be switched off in Settings)."""

    NEW_HANDOFF = "new_handoff"  # a handoff matching my skills entered the queue
    BUYER_MESSAGE = "buyer_message"  # a buyer wrote in a conversation I hold (window not focused)
    TRANSFER = "transfer"  # a colleague transferred a handoff to me
    MENTION = "mention"  # a colleague @mentioned me
    TIMEOUT = "timeout"  # my claimed handoff is about to time out

    ALL = (NEW_HANDOFF, BUYER_MESSAGE, TRANSFER, MENTION, TIMEOUT)
    LABELS: ClassVar[dict[str, str]] = {
        NEW_HANDOFF: "A handoff for my expertise enters the queue",
        BUYER_MESSAGE: "A buyer writes in a conversation I hold (window not in front)",
        TRANSFER: "A colleague transfers a handoff to me",
        MENTION: "A colleague @mentions me",
        TIMEOUT: "My claimed handoff is about to time out",
    }


def config_dir() -> Path:
    override = os.environ.get("WARMLINE_CONFIG_DIR")
    if override:
        return Path(override)
    from platformdirs import user_config_dir

    return Path(user_config_dir("warmline", appauthor=False))


def settings_path() -> Path:
    return config_dir() / "desktop.ini"


@dataclass
class Preferences:
    """Everything the Settings dialog edits (plain values; ``DesktopSettings`` stores them)."""

    theme: str = "system"
    font_pt: float = DEFAULT_FONT_PT
    notify: dict[str, bool] = field(default_factory=lambda: dict.fromkeys(Kind.ALL, True))
    quiet_enabled: bool = False
    quiet_start: str = "19:00"  # HH:MM local time
    quiet_end: str = "07:00"
    sound: bool = False
    close_to_tray: bool = True


def _bool(value: Any, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "on")


class DesktopSettings(QObject):
    """Typed access to the INI file; ``changed`` fires after ``save_preferences``."""

    changed = Signal(object)  # Preferences

    def __init__(self, path: Path | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.path = path or settings_path()  # QSettings creates the folder when it first writes
        self.qsettings = QSettings(str(self.path), QSettings.Format.IniFormat)

    # --- preferences ---------------------------------------------------------------------

    def preferences(self) -> Preferences:
        s = self.qsettings
        prefs = Preferences()
        theme = str(s.value("appearance/theme", prefs.theme))
        prefs.theme = theme if theme in THEMES else "system"
        try:
            prefs.font_pt = min(24.0, max(7.0, float(s.value("appearance/font_pt", prefs.font_pt))))
        except (TypeError, ValueError):
            prefs.font_pt = DEFAULT_FONT_PT
        prefs.notify = {k: _bool(s.value(f"notify/{k}"), True) for k in Kind.ALL}
        prefs.quiet_enabled = _bool(s.value("notify/quiet_enabled"), False)
        prefs.quiet_start = str(s.value("notify/quiet_start", prefs.quiet_start))
        prefs.quiet_end = str(s.value("notify/quiet_end", prefs.quiet_end))
        prefs.sound = _bool(s.value("notify/sound"), False)
        prefs.close_to_tray = _bool(s.value("window/close_to_tray"), True)
        return prefs

    def save_preferences(self, prefs: Preferences) -> None:
        s = self.qsettings
        s.setValue("appearance/theme", prefs.theme)
        s.setValue("appearance/font_pt", float(prefs.font_pt))
        for k in Kind.ALL:
            s.setValue(f"notify/{k}", bool(prefs.notify.get(k, True)))
        s.setValue("notify/quiet_enabled", prefs.quiet_enabled)
        s.setValue("notify/quiet_start", prefs.quiet_start)
        s.setValue("notify/quiet_end", prefs.quiet_end)
        s.setValue("notify/sound", prefs.sound)
        s.setValue("window/close_to_tray", prefs.close_to_tray)
        s.sync()
        self.changed.emit(prefs)

    # --- one-time hints and window layout --------------------------------------------------

    def flag(self, name: str) -> bool:
        return _bool(self.qsettings.value(f"hints/{name}"), False)

    def set_flag(self, name: str, on: bool = True) -> None:
        self.qsettings.setValue(f"hints/{name}", on)
        self.qsettings.sync()

    def blob(self, key: str) -> QByteArray | None:
        value = self.qsettings.value(f"layout/{key}")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def set_blob(self, key: str, value: QByteArray) -> None:
        self.qsettings.setValue(f"layout/{key}", value)

    def sync(self) -> None:
        self.qsettings.sync()
