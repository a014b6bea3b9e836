"""The transcript as the buyer saw it: bubbles for buyer, AI and specialist, quiet lines for system events.

Internal notes (never shown to the buyer) are drawn in amber with an INTERNAL NOTE tag.
A packet item's source turn can be highlighted and scrolled into view.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import QAbstractItemView, QListView, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from warmline.console.models.transcript_model import HighlightRole, MessageRole, TranscriptModel
from warmline.console.theme import AUTHOR_COLORS, AUTHOR_LABELS, HIGHLIGHT_COLOR, INTERNAL_COLORS
from warmline.domain.models import AuthorKind, Message

PAD = 10  # inside a bubble
GAP = 6  # between messages
SIDE = 14  # view margin
HEADER_GAP = 3
WRAP = Qt.TextFlag.TextWordWrap


def author_line(m: Message) -> str:
    """'Name · Role · 14:02' above a bubble."""
    stamp = m.created_at.astimezone().strftime("%H:%M")
    if m.internal:
        return " · ".join(x for x in ("INTERNAL NOTE", m.author_name, stamp) if x)
    role = AUTHOR_LABELS[m.author_kind]
    name = m.author_name or role
    parts = [name] if name == role else [name, role]
    return " · ".join([*parts, stamp])


class BubbleDelegate(QStyledItemDelegate):
    """Paints one message; its height follows the text wrapped to the view's width."""

    def __init__(self, view: QListView) -> None:
        super().__init__(view)
        self._view = view

    def _fonts(self, option: QStyleOptionViewItem) -> tuple[QFont, QFont]:
        body = QFont(option.font)
        small = QFont(option.font)
        small.setPointSizeF(max(7.0, body.pointSizeF() - 1.5))
        return body, small

    def _geometry(self, m: Message, width: int, body_font: QFont, small_font: QFont) -> tuple[int, int, int]:
        """(bubble width, text height, header height) for a message at this view width."""
        fm = QFontMetrics(body_font)
        if m.author_kind == AuthorKind.SYSTEM and not m.internal:
            max_w = max(120, width - 4 * SIDE)
            rect = QFontMetrics(small_font).boundingRect(QRect(0, 0, max_w, 100000), WRAP, m.body)
            return rect.width(), rect.height(), 0
        max_text = max(120, int(width * 0.72) - 2 * PAD)
        rect = fm.boundingRect(QRect(0, 0, max_text, 100000), WRAP, m.body)
        header_h = QFontMetrics(small_font).height() + HEADER_GAP
        bubble_w = max(rect.width(), 40) + 2 * PAD
        return bubble_w, rect.height(), header_h

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        m: Message = index.data(MessageRole)
        width = self._view.viewport().width()
        body_font, small_font = self._fonts(option)
        _, text_h, header_h = self._geometry(m, width, body_font, small_font)
        if m.author_kind == AuthorKind.SYSTEM and not m.internal:
            return QSize(width, text_h + 2 * GAP + 4)
        return QSize(width, header_h + text_h + 2 * PAD + 2 * GAP)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        m: Message = index.data(MessageRole)
        highlighted = bool(index.data(HighlightRole))
        r = option.rect
        body_font, small_font = self._fonts(option)
        bubble_w, text_h, header_h = self._geometry(m, r.width(), body_font, small_font)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if highlighted:
            painter.fillRect(r, QColor(HIGHLIGHT_COLOR))

        if m.author_kind == AuthorKind.SYSTEM and not m.internal:
            painter.setFont(small_font)
            painter.setPen(QColor(AUTHOR_COLORS[AuthorKind.SYSTEM][2]))
            text_rect = QRect(r.x() + 2 * SIDE, r.y() + GAP + 2, r.width() - 4 * SIDE, text_h)
            painter.drawText(text_rect, int(Qt.AlignmentFlag.AlignHCenter) | int(WRAP), m.body)
            painter.restore()
            return

        right = m.author_kind == AuthorKind.AGENT or m.internal
        if m.internal:
            bg, border, name_color = INTERNAL_COLORS
            fg = "#78350F"
        else:
            bg, border, name_color = AUTHOR_COLORS[m.author_kind]
            fg = "#FFFFFF" if m.author_kind == AuthorKind.AGENT else "#111827"
        x = r.right() - SIDE - bubble_w if right else r.x() + SIDE
        y = r.y() + GAP

        painter.setFont(small_font)
        painter.setPen(QColor(name_color if not m.internal else INTERNAL_COLORS[2]))
        header = author_line(m)
        align = Qt.AlignmentFlag.AlignRight if right else Qt.AlignmentFlag.AlignLeft
        header_rect = QRect(r.x() + SIDE, y, r.width() - 2 * SIDE, header_h)
        painter.drawText(header_rect, int(align), header)

        bubble = QRect(x, y + header_h, bubble_w, text_h + 2 * PAD)
        painter.setPen(QPen(QColor(border), 1.5 if m.internal else 1.0))
        painter.setBrush(QColor(bg))
        painter.drawRoundedRect(bubble, 12, 12)
        painter.setFont(body_font)
        painter.setPen(QColor(fg))
        painter.drawText(bubble.adjusted(PAD, PAD, -PAD, -PAD), int(WRAP), m.body)
        painter.restore()


class TranscriptView(QListView):
    """Read-only thread; follows new messages when scrolled to the bottom."""

    def __init__(self, model: TranscriptModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("transcript")
        self.setModel(model)
        self.setItemDelegate(BubbleDelegate(self))
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setUniformItemSizes(False)
        self.setWordWrap(True)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._model = model
        self._follow = True
        model.rowsAboutToBeInserted.connect(self._remember_follow)
        model.rowsInserted.connect(self._after_insert)
        model.modelReset.connect(self.scrollToBottom)

    def _remember_follow(self, *_args: object) -> None:
        bar = self.verticalScrollBar()
        self._follow = bar.value() >= bar.maximum() - 4

    def _after_insert(self, *_args: object) -> None:
        if self._follow and self._model.highlight_seq is None:
            self.scrollToBottom()

    def jump_to_seq(self, seq: int) -> bool:
        """Highlight the message with this seq and scroll it into the middle; False if absent."""
        row = self._model.set_highlight(seq)
        if row < 0:
            return False
        self.scrollTo(self._model.index(row, 0), QAbstractItemView.ScrollHint.PositionAtCenter)
        return True
