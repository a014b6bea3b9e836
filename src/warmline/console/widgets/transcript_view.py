"""The transcript as the buyer saw it: bubbles for buyer, AI and specialist, quiet lines for system events.

Internal notes (never shown to the buyer) are drawn in amber with an INTERNAL NOTE tag; the
assistant's notes (a lookup's result, kept for the record) are collapsed to one line and expand
on a click. A packet item's source turn can be highlighted and scrolled into view.

The view follows the bottom (new messages, a claim banner or a resize keep the newest turn in
sight) unless the specialist scrolled up on purpose; then new messages raise a
"New message ↓" pill over the thread instead of moving it.

Replies still in the outbox are drawn as my bubbles, faded, with their state above them
("Sending…", "Waiting for connection · retrying at 14:02:05…"); a refused one is outlined in
red with "Not sent: <reason>" and Retry / Copy / Discard links under it (also on its
right-click menu).
"""

from __future__ import annotations

import time

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QGuiApplication, QMouseEvent, QPainter, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QListView,
    QMenu,
    QPushButton,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from warmline.console.client.outbox import EntryState, OutboxEntry
from warmline.console.models.transcript_model import HighlightRole, MessageRole, PendingRole, TranscriptModel
from warmline.console.theme import AUTHOR_COLORS, AUTHOR_LABELS, HIGHLIGHT_COLOR, INTERNAL_COLORS
from warmline.domain.models import AuthorKind, Message

PAD = 10  # inside a bubble
GAP = 6  # between messages
SIDE = 14  # view margin
HEADER_GAP = 3
WRAP = Qt.TextFlag.TextWordWrap
FAILED_COLORS = ("#FEF2F2", "#DC2626", "#B91C1C")  # background, border, text of a refused reply
PENDING_OPACITY = 0.6
ACTIONS = (("retry", "↻ Retry"), ("copy", "Copy"), ("discard", "✕ Discard"))
ACTION_GAP = 14


def pending_line(entry: OutboxEntry) -> str:
    """The state line above a reply that is still in the outbox (plain text: no emoji fonts needed)."""
    stamp = entry.created_at.astimezone().strftime("%H:%M")
    if entry.state == EntryState.FAILED:
        return f"Not sent: {entry.error or 'the hub refused it'}"
    if entry.held:
        return "Held back: an earlier reply here was not sent (retry or discard it first)"
    if entry.state == EntryState.WAITING:
        what = "Waiting for connection" if entry.status in (0, None) else f"Hub busy ({entry.status})"
        if entry.retry_at:
            what += " · retrying at " + time.strftime("%H:%M:%S", time.localtime(entry.retry_at))
        return f"{what}…"
    return f"Sending… · {stamp}"


def collapsible(m: Message) -> bool:
    """An assistant note (a lookup's result kept in the thread): shown as one line until opened."""
    return bool(m.internal and m.assist_job_id)


def bubble_text(m: Message, expanded: bool = False) -> str:
    """What a bubble shows: the body; an assistant note collapsed to its first line."""
    if not collapsible(m) or expanded:
        return m.body
    lines = [line for line in m.body.splitlines() if line.strip()]
    first = lines[0].strip() if lines else ""
    if len(first) > 90:
        first = first[:89].rstrip() + "…"
    more = len(lines) - 1
    tail = f"  ▸ {more} more line{'s' if more != 1 else ''}" if more > 0 else ""
    return f"{first}{tail}"


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

    def __init__(self, view: TranscriptView) -> None:
        super().__init__(view)
        self._view = view
        # text measurements per (message, width, font): the list view asks every row's size on
        # each relayout (a new message, a resize), and measuring long wrapped text is the cost
        self._measured: dict[tuple[str, int, int, str, bool], tuple[int, int, int]] = {}

    def _fonts(self, option: QStyleOptionViewItem) -> tuple[QFont, QFont]:
        body = QFont(option.font)
        small = QFont(option.font)
        small.setPointSizeF(max(7.0, body.pointSizeF() - 1.5))
        return body, small

    def _geometry(self, m: Message, width: int, body_font: QFont, small_font: QFont) -> tuple[int, int, int]:
        """(bubble width, text height, header height) for a message at this view width (memoised)."""
        expanded = m.id in self._view.expanded
        key = (m.id, len(m.body), width, body_font.key(), expanded)
        hit = self._measured.get(key)
        if hit is None:
            if len(self._measured) > 20000:
                self._measured.clear()
            hit = self._measured[key] = self._measure(m, width, body_font, small_font, expanded)
        return hit

    def _measure(
        self, m: Message, width: int, body_font: QFont, small_font: QFont, expanded: bool
    ) -> tuple[int, int, int]:
        fm = QFontMetrics(body_font)
        if m.author_kind == AuthorKind.SYSTEM and not m.internal:
            max_w = max(120, width - 4 * SIDE)
            rect = QFontMetrics(small_font).boundingRect(QRect(0, 0, max_w, 100000), WRAP, m.body)
            return rect.width(), rect.height(), 0
        max_text = max(120, int(width * 0.72) - 2 * PAD)
        text = bubble_text(m, expanded)
        flags = WRAP if expanded or not collapsible(m) else Qt.TextFlag.TextSingleLine
        rect = fm.boundingRect(QRect(0, 0, max_text, 100000), flags, text)
        header_h = QFontMetrics(small_font).height() + HEADER_GAP
        bubble_w = min(max(rect.width(), 40), max_text) + 2 * PAD  # a collapsed line never overflows
        return bubble_w, rect.height(), header_h

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        m: Message = index.data(MessageRole)
        width = self._view.viewport().width()
        body_font, small_font = self._fonts(option)
        _, text_h, header_h = self._geometry(m, width, body_font, small_font)
        if m.author_kind == AuthorKind.SYSTEM and not m.internal:
            return QSize(width, text_h + 2 * GAP + 4)
        entry: OutboxEntry | None = index.data(PendingRole)
        footer = header_h if entry is not None and entry.state == EntryState.FAILED else 0
        return QSize(width, header_h + text_h + 2 * PAD + 2 * GAP + footer)

    def action_rects(
        self, option_rect: QRect, small_font: QFont, header_h: int, text_h: int
    ) -> dict[str, QRect]:
        """Where Retry / Copy / Discard are drawn under a refused reply (right-aligned)."""
        fm = QFontMetrics(small_font)
        y = option_rect.y() + GAP + header_h + text_h + 2 * PAD + 2
        x = option_rect.right() - SIDE
        rects: dict[str, QRect] = {}
        for name, label in reversed(ACTIONS):
            w = fm.horizontalAdvance(label) + 4
            x -= w
            rects[name] = QRect(x, y, w, header_h)
            x -= ACTION_GAP
        return rects

    def actions_at(self, option: QStyleOptionViewItem, index: QModelIndex) -> dict[str, QRect]:
        m: Message = index.data(MessageRole)
        body_font, small_font = self._fonts(option)
        _, text_h, header_h = self._geometry(m, option.rect.width(), body_font, small_font)
        return self.action_rects(option.rect, small_font, header_h, text_h)

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
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
        entry: OutboxEntry | None = index.data(PendingRole)
        failed = entry is not None and entry.state == EntryState.FAILED
        if failed:
            bg, border, name_color = FAILED_COLORS
            fg = "#7F1D1D"
        elif m.internal:
            bg, border, name_color = INTERNAL_COLORS
            fg = "#78350F"
        else:
            bg, border, name_color = AUTHOR_COLORS[m.author_kind]
            fg = "#FFFFFF" if m.author_kind == AuthorKind.AGENT else "#111827"
        x = r.right() - SIDE - bubble_w if right else r.x() + SIDE
        y = r.y() + GAP

        painter.setFont(small_font)
        painter.setPen(QColor(name_color if not m.internal else INTERNAL_COLORS[2]))
        header = author_line(m) if entry is None else pending_line(entry)
        if collapsible(m):
            header += "  ·  click to " + ("collapse" if m.id in self._view.expanded else "expand")
        if entry is not None:
            header = QFontMetrics(small_font).elidedText(
                header, Qt.TextElideMode.ElideRight, r.width() - 2 * SIDE
            )
        if entry is not None and not failed:
            painter.setOpacity(PENDING_OPACITY)
        align = Qt.AlignmentFlag.AlignRight if right else Qt.AlignmentFlag.AlignLeft
        header_rect = QRect(r.x() + SIDE, y, r.width() - 2 * SIDE, header_h)
        painter.drawText(header_rect, int(align), header)

        bubble = QRect(x, y + header_h, bubble_w, text_h + 2 * PAD)
        painter.setPen(QPen(QColor(border), 1.5 if m.internal else 1.0))
        painter.setBrush(QColor(bg))
        painter.drawRoundedRect(bubble, 12, 12)
        painter.setFont(body_font)
        painter.setPen(QColor(fg))
        expanded = m.id in self._view.expanded
        text = bubble_text(m, expanded)
        inner = bubble.adjusted(PAD, PAD, -PAD, -PAD)
        if collapsible(m) and not expanded:
            head, sep, tail = text.partition("  ▸ ")
            fm = QFontMetrics(body_font)
            tail = f"{sep}{tail}" if sep else ""
            room = max(20, inner.width() - fm.horizontalAdvance(tail))
            text = fm.elidedText(head, Qt.TextElideMode.ElideRight, room) + tail
            painter.drawText(inner, int(Qt.TextFlag.TextSingleLine), text)
        else:
            painter.drawText(inner, int(WRAP), text)
        if failed:
            painter.setOpacity(1.0)
            painter.setFont(small_font)
            painter.setPen(QColor("#4F46E5"))
            rects = self.action_rects(r, small_font, header_h, text_h)
            for name, label in ACTIONS:
                painter.drawText(rects[name], int(Qt.AlignmentFlag.AlignCenter), label)
        painter.restore()


class TranscriptView(QListView):
    """Read-only thread; follows new messages unless scrolled up (then a "New message ↓" pill).

    For replies in the outbox it offers Retry and Discard (as signals with the reply's
    idempotency key: the session acts) and Copy (text to the clipboard, here).
    """

    retry_requested = Signal(str)
    discard_requested = Signal(str)
    copied = Signal(str)  # the text put on the clipboard

    def __init__(self, model: TranscriptModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.expanded: set[str] = set()  # ids of assistant notes opened by a click
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
        self.setMouseTracking(True)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._context_menu)
        self.menu: QMenu | None = None  # the last context menu (kept for tests; popup, never exec)
        self._model = model
        self._follow = True  # keep the newest turn in sight
        self._adjusting = False  # our own scrolling, not the specialist's
        self.pill = QPushButton("New message ↓", self.viewport())
        self.pill.setObjectName("newMessagePill")
        self.pill.setCursor(Qt.CursorShape.PointingHandCursor)
        self.pill.setToolTip("Jump to the newest message")
        self.pill.clicked.connect(self.follow_bottom)
        self.pill.hide()
        bar = self.verticalScrollBar()
        bar.rangeChanged.connect(self._on_range)
        bar.valueChanged.connect(self._on_value)
        model.rowsInserted.connect(self._after_insert)
        model.modelReset.connect(self._after_reset)

    # --- following the bottom --------------------------------------------------------------

    @property
    def following(self) -> bool:
        """True while the view keeps the newest message in sight."""
        return self._follow

    def at_bottom(self) -> bool:
        bar = self.verticalScrollBar()
        return bar.value() >= bar.maximum() - 4

    def _set_value(self, value: int) -> None:
        self._adjusting = True
        try:
            self.verticalScrollBar().setValue(value)
        finally:
            self._adjusting = False

    def _on_range(self, _lo: int, hi: int) -> None:
        # content grew (a message, an expanded note) or the viewport changed (a banner, a resize)
        if self._follow:
            self._set_value(hi)

    def _on_value(self, _value: int) -> None:
        if self._adjusting:
            return
        self._follow = self.at_bottom()  # the specialist scrolled: follow only at the bottom
        if self._follow:
            self.pill.hide()

    def _after_insert(self, *_args: object) -> None:
        if self._follow:
            self._set_value(self.verticalScrollBar().maximum())
        else:
            self._show_pill()

    def _after_reset(self) -> None:
        self.expanded.clear()
        self.pill.hide()
        self._follow = True
        self.scrollToBottom()

    def follow_bottom(self) -> None:
        """Back to the newest message and keep following (the pill's click)."""
        self._follow = True
        self.pill.hide()
        self._set_value(self.verticalScrollBar().maximum())

    def _show_pill(self) -> None:
        self.pill.adjustSize()
        self._place_pill()
        self.pill.show()
        self.pill.raise_()

    def _place_pill(self) -> None:
        vp = self.viewport()
        self.pill.move((vp.width() - self.pill.width()) // 2, vp.height() - self.pill.height() - 10)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self.pill.isVisible():
            self._place_pill()

    def jump_to_seq(self, seq: int) -> bool:
        """Highlight the message with this seq and scroll it into the middle; False if absent.

        Reading an older turn stops following; new messages then raise the pill, and scrolling
        back to the bottom (or the pill) follows again."""
        row = self._model.set_highlight(seq)
        if row < 0:
            return False
        self._adjusting = True
        try:
            self.scrollTo(self._model.index(row, 0), QAbstractItemView.ScrollHint.PositionAtCenter)
        finally:
            self._adjusting = False
        self._follow = self.at_bottom()
        if self._follow:
            self.pill.hide()
        return True

    # --- assistant notes: one line until opened ------------------------------------------

    def toggle_note(self, row: int) -> bool:
        """Open or close an assistant note; False when the row is not one."""
        index = self._model.index(row, 0)
        m = index.data(MessageRole) if index.isValid() else None
        if m is None or not collapsible(m) or index.data(PendingRole) is not None:
            return False
        if m.id in self.expanded:
            self.expanded.discard(m.id)
        else:
            self.expanded.add(m.id)
        self.itemDelegate().sizeHintChanged.emit(index)
        self.viewport().update()
        return True

    # --- replies in the outbox -----------------------------------------------------------

    def action_rect(self, key: str, action: str) -> QRect:
        """Viewport rect of a refused reply's action link (empty if not shown)."""
        row = self._model.row_for_key(key)
        entry = self._model.index(row, 0).data(PendingRole) if row >= 0 else None
        if entry is None or entry.state != EntryState.FAILED:
            return QRect()
        index = self._model.index(row, 0)
        option = QStyleOptionViewItem()
        self.initViewItemOption(option)
        option.rect = self.visualRect(index)
        delegate: BubbleDelegate = self.itemDelegate()  # type: ignore[assignment]
        return delegate.actions_at(option, index).get(action, QRect())

    def _action_at(self, pos: QPoint) -> tuple[str, str] | None:
        index = self.indexAt(pos)
        entry = index.data(PendingRole) if index.isValid() else None
        if entry is None or entry.state != EntryState.FAILED:
            return None
        for name, _label in ACTIONS:
            if self.action_rect(entry.key, name).contains(pos):
                return name, entry.key
        return None

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position().toPoint()
        index = self.indexAt(pos)
        m = index.data(MessageRole) if index.isValid() else None
        over = self._action_at(pos) is not None or (m is not None and collapsible(m))
        self.viewport().setCursor(Qt.CursorShape.PointingHandCursor if over else Qt.CursorShape.ArrowCursor)
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        pos = event.position().toPoint()
        hit = self._action_at(pos)
        if hit is not None and event.button() == Qt.MouseButton.LeftButton:
            self.trigger(*hit)
            event.accept()
            return
        index = self.indexAt(pos)
        if event.button() == Qt.MouseButton.LeftButton and index.isValid() and self.toggle_note(index.row()):
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def trigger(self, action: str, key: str) -> None:
        """Run a reply action: retry / discard go to the session, copy fills the clipboard."""
        if action == "retry":
            self.retry_requested.emit(key)
        elif action == "discard":
            self.discard_requested.emit(key)
        elif action == "copy":
            row = self._model.row_for_key(key)
            entry = self._model.index(row, 0).data(PendingRole) if row >= 0 else None
            if entry is not None:
                QGuiApplication.clipboard().setText(entry.body)
                self.copied.emit(entry.body)

    def _context_menu(self, pos: QPoint) -> None:
        index = self.indexAt(pos)
        if not index.isValid():
            return
        entry: OutboxEntry | None = index.data(PendingRole)
        menu = QMenu(self)
        if entry is not None:
            if entry.state == EntryState.FAILED:
                menu.addAction("Retry sending", lambda: self.trigger("retry", entry.key))
            menu.addAction("Copy text", lambda: self.trigger("copy", entry.key))
            if entry.state != EntryState.SENDING:
                menu.addAction("Discard reply", lambda: self.trigger("discard", entry.key))
        else:
            body = index.data(Qt.ItemDataRole.DisplayRole) or ""

            def copy() -> None:
                QGuiApplication.clipboard().setText(body)
                self.copied.emit(body)

            menu.addAction("Copy text", copy)
        self.menu = menu
        menu.popup(self.viewport().mapToGlobal(pos))
