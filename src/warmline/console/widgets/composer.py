"""The reply box under the transcript: Ctrl+Enter sends, the text survives a failed send."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

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


class Composer(QWidget):
    """Emits send_requested(text, idempotency_key); the key is reused while the same text is retried."""

    send_requested = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("composer")
        self.edit = ReplyEdit()
        self.edit.setObjectName("replyEdit")
        self.edit.setPlaceholderText("Write a reply to the buyer…  (Ctrl+Enter to send)")
        self.edit.setFixedHeight(78)
        self.edit.submit.connect(self.submit)
        self.edit.textChanged.connect(self._update_button)
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
        layout.setContentsMargins(12, 6, 12, 10)
        layout.setSpacing(4)
        layout.addWidget(self.hint)
        layout.addLayout(row)

        self._allowed = False
        self._sending_key: str | None = None
        self._pending: tuple[str, str] | None = None  # (text, key) of the last unsent attempt
        self.set_allowed(False, "Claim this handoff to reply. Others can read the thread.")

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
