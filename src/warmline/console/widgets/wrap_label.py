"""A word-wrapped QLabel whose height is fixed per width (cheap in long card lists)."""

from __future__ import annotations

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget


class WrapLabel(QLabel):
    """A word-wrapped label whose height is worked out once per width, not in every layout pass.

    A wrapped QLabel reports height-for-width, so each layout pass of the card list (one per
    new card) lays its rich text out again, for every card; with twenty results that is the
    GUI thread's biggest cost. This one tells the layout a fixed height instead, recomputed
    only when its text or its width changes.
    """

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self._fitted_width = -1
        if text:
            self.setText(text)

    def hasHeightForWidth(self) -> bool:
        return False

    def setText(self, text: str) -> None:
        super().setText(text)
        self._fitted_width = -1
        if self.width() > 0 and self.isVisible():
            self._fit(self.width())

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if event.size().width() != self._fitted_width:
            self._fit(event.size().width())

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._fitted_width != self.width():
            self._fit(self.width())

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._fitted_width = -1  # polished (style sheet font) after the first fit: fit again
            if self.isVisible() and self.width() > 0:
                self._fit(self.width())

    def _fit(self, width: int) -> None:
        if width <= 0:
            return
        self._fitted_width = width
        height = max(1, super().heightForWidth(width))
        if height != self.minimumHeight() or height != self.maximumHeight():
            self.setFixedHeight(height)
