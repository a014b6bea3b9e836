"""The resolve panel (Handoff ▸ Resolve with review…, Ctrl+Alt+D): outcome and the review
questions of docs/metrics.md, keyboard-first and skippable.

Keys: 1-5 pick the outcome (answered, quote sent, order placed, lost, no response);
Alt+A "the AI could have handled this" (unnecessary); Alt+E "should have reached a person
earlier" (late) with the message number it should have come at; Alt+B "the buyer had to
repeat"; Enter resolves with what is set; Alt+S resolves without a review; Esc cancels.
Plain Resolve (Ctrl+Shift+D) still resolves at once, without asking.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

if TYPE_CHECKING:
    from warmline.console.session import Session

OUTCOMES = (
    ("answered", "Answered"),
    ("quote_sent", "Quote sent"),
    ("order_placed", "Order placed"),
    ("lost", "Lost"),
    ("no_response", "No response"),
)


class ResolvePanel(QDialog):
    """Outcome + unnecessary / late (with the turn) / buyer repeated, then resolve."""

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.setObjectName("resolvePanel")
        self.setWindowTitle("Resolve — Warmline")
        self.setModal(False)
        self.outcome = QComboBox()
        self.outcome.installEventFilter(self)
        self.outcome.addItem("(not recorded)", None)
        for i, (value, label) in enumerate(OUTCOMES, start=1):
            self.outcome.addItem(f"{i}  {label}", value)
        self.unnecessary = QCheckBox("The AI could have handled this without a person (Alt+A)")
        self.late = QCheckBox("This should have reached a person earlier (Alt+E), at message")
        self.late_turn = QSpinBox()
        self.late_turn.setRange(1, 1)
        self.late_turn.setEnabled(False)
        self.late.toggled.connect(self.late_turn.setEnabled)
        self.repeated = QCheckBox("The buyer had to repeat information (Alt+B)")
        late_row = QHBoxLayout()
        late_row.addWidget(self.late)
        late_row.addWidget(self.late_turn)
        late_row.addStretch(1)
        form = QFormLayout()
        form.addRow("Outcome (1-5):", self.outcome)
        self.buttons = QDialogButtonBox()
        self.resolve_button = QPushButton("Resolve")
        self.resolve_button.setDefault(True)
        self.skip_button = QPushButton("Skip review (Alt+S)")
        self.buttons.addButton(self.resolve_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.addButton(self.skip_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.resolve_button.clicked.connect(lambda: self.finish(self.review()))
        self.skip_button.clicked.connect(lambda: self.finish(None))
        self.buttons.rejected.connect(self.reject)
        self.title = QLabel("")
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(form)
        layout.addWidget(self.unnecessary)
        layout.addLayout(late_row)
        layout.addWidget(self.repeated)
        layout.addWidget(self.buttons)
        self.sent: dict[str, Any] | None = None
        for keys, slot in (  # explicit, as mnemonics are off on some platforms
            ("Alt+A", self.unnecessary.toggle),
            ("Alt+E", self.late.toggle),
            ("Alt+B", self.repeated.toggle),
            ("Alt+S", self.skip_button.click),
            ("Alt+R", self.resolve_button.click),
        ):
            QShortcut(QKeySequence(keys), self, activated=slot)

    def prepare(self) -> None:
        """Fresh answers for the current handoff (its last message is the highest late turn)."""
        current = self.session.current
        last = max((m.seq for m in current.conversation.messages), default=1) if current else 1
        self.title.setText(f"Resolve: {current.buyer_company or current.summary}" if current else "")
        self.outcome.setCurrentIndex(0)
        for box in (self.unnecessary, self.late, self.repeated):
            box.setChecked(False)
        self.late_turn.setRange(1, max(1, last))
        self.late_turn.setValue(1)
        self.outcome.setFocus()

    def review(self) -> dict[str, Any]:
        """The answers given, as the resolve body (empty: nothing recorded)."""
        out: dict[str, Any] = {}
        if self.outcome.currentData():
            out["outcome"] = self.outcome.currentData()
        if self.unnecessary.isChecked():
            out["unnecessary"] = True
        if self.late.isChecked():
            out["late"] = True
            out["late_turn"] = self.late_turn.value()
        if self.repeated.isChecked():
            out["buyer_repeated"] = True
        return out

    def eventFilter(self, watched: Any, event: Any) -> bool:  # the combo box's own key search
        if watched is self.outcome and event.type() == event.Type.KeyPress and event.text() in set("12345"):
            self.keyPressEvent(event)
            return True
        return super().eventFilter(watched, event)

    def keyPressEvent(self, event: Any) -> None:  # digits pick the outcome, wherever the focus is
        text = event.text()
        if text in {"1", "2", "3", "4", "5"} and not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            self.outcome.setCurrentIndex(int(text))
            return
        super().keyPressEvent(event)

    def finish(self, review: dict[str, Any] | None) -> None:
        self.sent = review or {}
        self.session.resolve(review or None)
        self.accept()
