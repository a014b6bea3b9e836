"""The right-hand place kept for the assistant (lookups, substitutes, drafts); a later issue fills it."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget


class AssistantPanel(QFrame):
    """A clearly labelled, empty panel so the layout already has the assistant's column."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("assistantPanel")
        title = QLabel("Assistant")
        title.setObjectName("paneTitle")
        body = QLabel(
            "Spec lookups, substitutes, accessories, comparisons and reply drafts will appear here, "
            "recorded as internal notes.\n\nNot available in this version."
        )
        body.setObjectName("emptyHint")
        body.setWordWrap(True)
        body.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 12, 14, 12)
        layout.setSpacing(10)
        layout.addWidget(title)
        layout.addWidget(body)
        layout.addStretch(1)
