"""Light, dark and follow-the-system themes switched live; the base font size; high DPI;
and the window's size, splitters and hand-sized queue columns remembered between runs.

A theme is two things applied together: a QPalette for everything the QSS does not
style (menus, dialogs, scroll bars, table text) on the Fusion style, and the console's
QSS (``theme.style_sheet``) on the main window. "Follow system" reads Qt's colour scheme
and re-applies when the desktop switches (``QStyleHints.colorSchemeChanged``).
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from PySide6.QtCore import QByteArray, QObject, Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QMainWindow, QSplitter, QStyleFactory, QTableView, QWidget

from warmline.console.desktop.settings import DesktopSettings, Preferences
from warmline.console.theme import style_sheet, use_theme_colors


def enable_high_dpi() -> None:
    """Before the QApplication exists: exact (fractional) scale factors, not rounded ones."""
    if QGuiApplication.instance() is None:
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)


def system_is_dark(app: QGuiApplication | None = None) -> bool:
    """The desktop's light/dark setting (Windows, macOS, GNOME, KDE tell Qt); light when unknown."""
    app = app or QGuiApplication.instance()  # type: ignore[assignment]
    return app is not None and app.styleHints().colorScheme() == Qt.ColorScheme.Dark


def resolve_theme(theme: str, app: QGuiApplication | None = None) -> str:
    """'system' becomes 'light' or 'dark'."""
    if theme in ("light", "dark"):
        return theme
    return "dark" if system_is_dark(app) else "light"


def dark_palette() -> QPalette:
    p = QPalette()
    roles = {
        QPalette.ColorRole.Window: "#111827",
        QPalette.ColorRole.WindowText: "#E5E7EB",
        QPalette.ColorRole.Base: "#1F2937",
        QPalette.ColorRole.AlternateBase: "#18212F",
        QPalette.ColorRole.ToolTipBase: "#111827",
        QPalette.ColorRole.ToolTipText: "#F9FAFB",
        QPalette.ColorRole.PlaceholderText: "#6B7280",
        QPalette.ColorRole.Text: "#E5E7EB",
        QPalette.ColorRole.Button: "#1F2937",
        QPalette.ColorRole.ButtonText: "#E5E7EB",
        QPalette.ColorRole.BrightText: "#FFFFFF",
        QPalette.ColorRole.Highlight: "#4338CA",
        QPalette.ColorRole.HighlightedText: "#FFFFFF",
        QPalette.ColorRole.Link: "#A5B4FC",
        QPalette.ColorRole.Mid: "#374151",
        QPalette.ColorRole.Dark: "#0B1220",
        QPalette.ColorRole.Light: "#374151",
        QPalette.ColorRole.Shadow: "#000000",
    }
    for role, color in roles.items():
        p.setColor(role, QColor(color))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor("#6B7280"))
    return p


def light_palette() -> QPalette:
    style = QStyleFactory.create("Fusion")
    p = style.standardPalette() if style is not None else QPalette()
    p.setColor(QPalette.ColorRole.Highlight, QColor("#C7D2FE"))
    p.setColor(QPalette.ColorRole.HighlightedText, QColor("#111827"))
    p.setColor(QPalette.ColorRole.Link, QColor("#4F46E5"))
    return p


class Appearance(QObject):
    """Applies the chosen theme and font size to the app and one main window, live."""

    def __init__(self, app: QApplication, settings: DesktopSettings, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.app = app
        self.settings = settings
        self.windows: list[QWidget] = []
        self.theme = "light"  # the theme in effect (resolved)
        self.preferences = settings.preferences()
        settings.changed.connect(self.apply)
        app.styleHints().colorSchemeChanged.connect(self._system_changed)
        if app.style().name().lower() != "fusion":
            app.setStyle("Fusion")  # the same look on every platform, and palettes that apply

    def attach(self, window: QWidget) -> None:
        self.windows.append(window)
        window.destroyed.connect(lambda *_: self.windows.remove(window) if window in self.windows else None)
        self.apply(self.preferences)

    def apply(self, prefs: Preferences) -> None:
        self.preferences = prefs
        self.theme = resolve_theme(prefs.theme, self.app)
        self.app.setPalette(dark_palette() if self.theme == "dark" else light_palette())
        font = self.app.font()
        font.setPointSizeF(prefs.font_pt)
        self.app.setFont(font)
        use_theme_colors(self.theme)
        qss = style_sheet(self.theme, prefs.font_pt)
        for window in self.windows:
            window.setStyleSheet(qss)
            window.update()

    def _system_changed(self, *_args: object) -> None:
        if self.preferences.theme == "system":
            self.apply(self.preferences)


# --- remembered layout -------------------------------------------------------------------
# The window's geometry, every named splitter, and the queue columns the specialist sized by
# hand (the others fit their content on every change: widgets/queue_view.py).


def _splitters(window: QMainWindow) -> dict[str, QSplitter]:
    return {s.objectName(): s for s in window.findChildren(QSplitter) if s.objectName()}


def restore_layout(window: QMainWindow, settings: DesktopSettings) -> None:
    """Window size/position and splitter positions from the last run."""
    geometry = settings.blob("geometry")
    if geometry is not None:
        window.restoreGeometry(geometry)
    for name, splitter in _splitters(window).items():
        state = settings.blob(f"splitter/{name}")
        if state is not None:
            splitter.restoreState(state)
    table = _queue_table(window)
    kept = settings.blob("queue/pinned_columns")
    if table is not None and kept is not None:
        with contextlib.suppress(ValueError, TypeError, AttributeError):
            widths = json.loads(bytes(kept.data()).decode("utf-8"))
            table.pin_widths({int(c): int(w) for c, w in widths.items()})


def _queue_table(window: QMainWindow) -> Any:
    table = window.findChild(QTableView, "queueTable")
    return table if table is not None and hasattr(table, "pin_widths") else None


def save_layout(window: QMainWindow, settings: DesktopSettings) -> None:
    settings.set_blob("geometry", window.saveGeometry())
    for name, splitter in _splitters(window).items():
        settings.set_blob(f"splitter/{name}", splitter.saveState())
    table = _queue_table(window)
    if table is not None:
        settings.set_blob("queue/pinned_columns", QByteArray(json.dumps(table.pinned).encode("utf-8")))
    settings.sync()
