"""The reply box under the transcript: Ctrl+Enter sends, the text survives a failed send.

The box grows with its text (from three lines up to half of the conversation pane) and can be
made taller or shorter by dragging the grip on its top edge. While the hub is unreachable a
strip above it says that replies wait on this computer.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent, QMouseEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from warmline.console.client.hub_client import new_idempotency_key
from warmline.domain.models import MAX_MESSAGE_CHARS


class ReplyEdit(QPlainTextEdit):
    """Plain text editor where Ctrl+Enter submits instead of adding a line."""

    submit = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and (
            event.modifiers() & Qt.KeyboardModifier.ControlModifier
        ):
            self.submit.emit()
            event.accept()
            return
        super().keyPressEvent(event)


MIN_EDIT_HEIGHT = 78  # about three lines


class Grip(QFrame):
    """The composer's top edge: drag it to make the reply box taller or shorter."""

    pressed = Signal()
    dragged = Signal(int)  # vertical movement in pixels since the press (up is negative)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("composerGrip")
        self.setFixedHeight(7)
        self.setCursor(Qt.CursorShape.SizeVerCursor)
        self.setToolTip("Drag to resize the reply box")
        self._start: float | None = None

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._start = event.globalPosition().y()
        self.pressed.emit()
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._start is not None:
            self.dragged.emit(int(event.globalPosition().y() - self._start))
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._start = None
        event.accept()


class Composer(QWidget):
    """Emits send_requested(text, idempotency_key); the key is reused while the same text is retried."""

    send_requested = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("composer")
        self.edit = ReplyEdit()
        self.edit.setObjectName("replyEdit")
        self.edit.setPlaceholderText("Write a reply to the buyer…  (Ctrl+Enter to send)")
        self.edit.setFixedHeight(MIN_EDIT_HEIGHT)
        self.edit.submit.connect(self.submit)
        self.edit.textChanged.connect(self._update_button)
        self.edit.textChanged.connect(self.fit_height)
        self.manual_height: int | None = None  # set by dragging the grip
        self._drag_from = MIN_EDIT_HEIGHT
        self.grip = Grip()
        self.grip.dragged.connect(self._on_drag)
        self.grip.pressed.connect(self._start_drag)
        self.offline_strip = QLabel("")
        self.offline_strip.setObjectName("offlineStrip")
        self.offline_strip.setWordWrap(True)
        self.offline_strip.hide()
        self.send_button = QPushButton("Send")
        self.send_button.setObjectName("primary")
        self.send_button.setToolTip("Send reply (Ctrl+Enter)")
        self.send_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.send_button.clicked.connect(self.submit)
        self.hint = QLabel("")
        self.hint.setObjectName("composerHint")
        self.hint.setWordWrap(True)

        row = QHBoxLayout()
        row.setSpacing(8)
        row.addWidget(self.edit, 1)
        row.addWidget(self.send_button, 0, Qt.AlignmentFlag.AlignBottom)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 0, 12, 10)
        layout.setSpacing(4)
        layout.addWidget(self.grip)
        layout.addWidget(self.offline_strip)
        layout.addWidget(self.hint)
        layout.addLayout(row)

        self._allowed = False
        self._sending_key: str | None = None
        self._pending: tuple[str, str] | None = None  # (text, key) of the last unsent attempt
        self.set_allowed(False, "Claim this handoff to reply. Others can read the thread.")

    # --- height: grows with the text, up to half the pane; the grip sets it by hand ----------

    def max_edit_height(self) -> int:
        pane = self.parentWidget()
        limit = (pane.height() // 2) if pane is not None and pane.height() > 0 else 400
        return max(MIN_EDIT_HEIGHT, limit - 40)

    def content_height(self) -> int:
        doc = self.edit.document()
        lines = 0
        block = doc.begin()
        while block.isValid():
            layout = block.layout()
            lines += max(1, layout.lineCount() if layout is not None else 1)
            block = block.next()
        line_h = self.edit.fontMetrics().lineSpacing()
        margins = self.edit.contentsMargins()
        return lines * line_h + int(doc.documentMargin() * 2) + margins.top() + margins.bottom() + 6

    def fit_height(self) -> None:
        """Follow the text: at least three lines (or the dragged height), at most half the pane."""
        want = max(self.manual_height or MIN_EDIT_HEIGHT, self.content_height())
        height = min(want, self.max_edit_height())
        if height != self.edit.height():
            self.edit.setFixedHeight(height)

    def _on_drag(self, dy: int) -> None:
        self.manual_height = max(MIN_EDIT_HEIGHT, min(self._drag_from - dy, self.max_edit_height()))
        self.edit.setFixedHeight(self.manual_height)

    def _start_drag(self) -> None:
        self._drag_from = self.edit.height()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.parentWidget() and event.type() == QEvent.Type.Resize:
            self.fit_height()
        return False

    def showEvent(self, event) -> None:
        super().showEvent(event)
        pane = self.parentWidget()
        if pane is not None:
            pane.removeEventFilter(self)
            pane.installEventFilter(self)

    def set_offline(self, offline: bool, text: str = "") -> None:
        """The strip over the reply box: the hub is unreachable, replies wait on this computer."""
        self.offline_strip.setText(text)
        self.offline_strip.setVisible(offline)

    @property
    def sending(self) -> bool:
        return self._sending_key is not None

    def set_allowed(self, allowed: bool, hint: str = "") -> None:
        """Enable replying only while I hold the handoff; say why otherwise."""
        self._allowed = allowed
        self.edit.setReadOnly(not allowed)
        self.edit.setEnabled(allowed)
        self.hint.setText(hint)
        self.hint.setProperty("level", "info")
        self.hint.setVisible(bool(hint))
        self._repolish(self.hint)
        self._update_button()

    def _update_button(self) -> None:
        text = self.edit.toPlainText().strip()
        self.send_button.setEnabled(self._allowed and bool(text) and not self.sending)

    def submit(self) -> None:
        """Ask the session to send; the text stays until the hub confirms."""
        body = self.edit.toPlainText().strip()
        if not (self._allowed and body) or self.sending:
            return
        if len(body) > MAX_MESSAGE_CHARS:
            self.show_error(f"Too long: {len(body)} characters (at most {MAX_MESSAGE_CHARS}).")
            return
        # Same text as a failed attempt: same key, so a send that did land is not duplicated.
        key = self._pending[1] if self._pending and self._pending[0] == body else new_idempotency_key()
        self._pending = (body, key)
        self._sending_key = key
        self.hint.setText("Sending…")
        self.hint.setProperty("level", "info")
        self.hint.setVisible(True)
        self._repolish(self.hint)
        self._update_button()
        self.send_requested.emit(body, key)

    def on_sent(self, key: str) -> None:
        if key != self._sending_key:
            return
        self._sending_key = None
        self._pending = None
        self.edit.clear()
        self.hint.setVisible(False)
        self._update_button()

    def on_failed(self, key: str, message: str) -> None:
        if key != self._sending_key:
            return
        self._sending_key = None
        self.show_error(message + " Your text is kept; press Ctrl+Enter to retry.")
        self._update_button()

    @property
    def allowed(self) -> bool:
        return self._allowed

    def insert_text(self, text: str) -> bool:
        """Put text into the reply at the cursor (the assistant's "Insert into reply"); False when
        replying is not allowed. What was typed stays; the inserted text is one undo step."""
        if not self._allowed or not text:
            return False
        cursor = self.edit.textCursor()
        before = self.edit.toPlainText()[: cursor.position()]
        if before and not before.endswith(("\n", " ")):
            text = "\n" + text
        cursor.insertText(text)
        self.edit.setTextCursor(cursor)
        self.edit.setFocus()
        return True

    def show_error(self, message: str) -> None:
        self.hint.setText(message)
        self.hint.setProperty("level", "error")
        self.hint.setVisible(True)
        self._repolish(self.hint)

    @staticmethod
    def _repolish(widget: QWidget) -> None:
        widget.style().unpolish(widget)
        widget.style().polish(widget)
