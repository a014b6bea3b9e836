"""The tray icon: the app's icon with a count badge, a menu (Open, Quit), and the place
notifications pop up from (``QSystemTrayIcon.showMessage``; clicking one opens its handoff)."""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QObject, QRectF, Qt, Signal
from PySide6.QtGui import QAction, QColor, QFont, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QApplication, QMenu, QSystemTrayIcon

from warmline.console.desktop.notify import Notification
from warmline.resources import resource_path

ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


@cache
def app_icon() -> QIcon:
    """Warmline's icon at every size shipped in resources/icons (Qt picks per DPI)."""
    icon = QIcon()
    for size in ICON_SIZES:
        path = resource_path("icons", f"warmline-{size}.png")
        if path.is_file():
            icon.addFile(str(path))
    return icon


def badge_pixmap(count: int, size: int = 64) -> QPixmap:
    """The icon with a red count badge in its top-right corner (no badge at 0)."""
    pixmap = app_icon().pixmap(size, size)
    if count <= 0:
        return pixmap
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    text = str(count) if count < 100 else "99+"
    diameter = size * (0.55 if len(text) < 3 else 0.7)
    rect = QRectF(size - diameter, 0, diameter, size * 0.55)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor("#DC2626"))
    painter.drawRoundedRect(rect, rect.height() / 2, rect.height() / 2)
    font = QFont()
    font.setBold(True)
    font.setPixelSize(int(size * (0.36 if len(text) < 3 else 0.28)))
    painter.setFont(font)
    painter.setPen(QColor("#FFFFFF"))
    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
    painter.end()
    return pixmap


class Tray(QObject):
    """One tray icon for the app; ``open_requested``/``quit_requested`` go to the shell."""

    open_requested = Signal()
    quit_requested = Signal()
    notification_clicked = Signal(object)  # Notification

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.icon = QSystemTrayIcon(app_icon(), self)
        self.count = 0
        self.last: Notification | None = None
        menu = QMenu()
        self.open_action = QAction("Open Warmline", menu)
        self.open_action.triggered.connect(self.open_requested)
        self.quit_action = QAction("Quit Warmline", menu)
        self.quit_action.triggered.connect(self.quit_requested)
        menu.addAction(self.open_action)
        menu.addSeparator()
        menu.addAction(self.quit_action)
        self.menu = menu
        self.icon.setContextMenu(menu)
        self.icon.activated.connect(self._activated)
        self.icon.messageClicked.connect(self._message_clicked)
        self.set_counts(0, 0)

    @staticmethod
    def available() -> bool:
        return QSystemTrayIcon.isSystemTrayAvailable()

    def show(self) -> None:
        self.icon.show()

    def hide(self) -> None:
        self.icon.hide()

    def set_counts(self, waiting: int, unread: int) -> None:
        """Badge: handoffs waiting for my expertise plus unread buyer messages."""
        self.count = waiting + unread
        self.icon.setIcon(QIcon(badge_pixmap(self.count)))
        parts = [f"{waiting} waiting for your expertise"]
        if unread:
            parts.append(f"{unread} unread")
        self.icon.setToolTip("Warmline — " + ", ".join(parts))

    def notify(self, note: Notification, *, sound: bool) -> None:
        self.last = note
        if note.quiet:
            return
        if self.icon.isVisible() and self.available() and QSystemTrayIcon.supportsMessages():
            self.icon.showMessage(note.title, note.body, app_icon(), 8000)
        if sound:
            QApplication.beep()

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (QSystemTrayIcon.ActivationReason.Trigger, QSystemTrayIcon.ActivationReason.DoubleClick):
            self.open_requested.emit()

    def _message_clicked(self) -> None:
        if self.last is not None:
            self.notification_clicked.emit(self.last)
        else:
            self.open_requested.emit()
