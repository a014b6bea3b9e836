"""The queue panel: expertise toggle, text filter and the live table (no per-row widgets)."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from warmline.console.models.queue_model import (
    COL_AGE,
    COL_COMPANY,
    COL_EXPERTISE,
    COL_FAMILY,
    COL_PRIORITY,
    COL_REASON,
    COL_STATUS,
    IdRole,
    MineRole,
    PriorityRole,
    QueueModel,
    ReasonRole,
    TakeableRole,
)
from warmline.console.models.queue_proxy import QueueFilterProxy
from warmline.console.theme import ACCENT, MINE_ROW_COLOR, PRIORITY_COLORS, REASON_COLORS

# Fixed widths: measuring 10,000 rows to fit contents would stall start-up.
COLUMN_WIDTHS = {
    COL_STATUS: 50,
    COL_PRIORITY: 72,
    COL_COMPANY: 150,
    COL_REASON: 134,
    COL_FAMILY: 78,
    COL_EXPERTISE: 150,
    COL_AGE: 66,
}
ROW_HEIGHT = 34


def paint_pill(painter: QPainter, rect: QRect, text: str, bg: str, fg: str, font: QFont) -> None:
    """A rounded chip sized to its text, vertically centred in rect."""
    painter.save()
    painter.setFont(font)
    fm = painter.fontMetrics()
    w = min(rect.width() - 4, fm.horizontalAdvance(text) + 14)
    h = fm.height() + 6
    chip = QRect(rect.x() + 4, rect.y() + (rect.height() - h) // 2, w, h)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(bg))
    painter.drawRoundedRect(chip, h / 2, h / 2)
    painter.setPen(QPen(QColor(fg)))
    painter.drawText(
        chip, Qt.AlignmentFlag.AlignCenter, fm.elidedText(text, Qt.TextElideMode.ElideRight, w - 8)
    )
    painter.restore()


class QueueDelegate(QStyledItemDelegate):
    """Priority chips, reason badges, a 'Mine' marker; rows outside my expertise are dimmed."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        mine = bool(index.data(MineRole))
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        if mine and not selected:
            painter.fillRect(opt.rect, QColor(MINE_ROW_COLOR))
        col = index.column()
        if col in (COL_PRIORITY, COL_REASON, COL_STATUS):
            text = opt.text
            opt.text = ""
            style = opt.widget.style() if opt.widget else None
            if style is not None:
                style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
            small = QFont(opt.font)
            small.setPointSizeF(max(7.5, opt.font.pointSizeF() - 1))
            if col == COL_PRIORITY:
                bg, fg = PRIORITY_COLORS[index.data(PriorityRole)]
                small.setBold(True)
                paint_pill(painter, opt.rect, text, bg, fg, small)
            elif col == COL_REASON:
                bg, fg = REASON_COLORS[index.data(ReasonRole)]
                paint_pill(painter, opt.rect, text, bg, fg, small)
            elif text:
                small.setBold(True)
                paint_pill(painter, opt.rect, text, ACCENT, "#FFFFFF", small)
            return
        if not index.data(TakeableRole) and not mine:
            opt.palette.setColor(opt.palette.ColorRole.Text, QColor("#9CA3AF"))
        if col == COL_AGE:
            opt.displayAlignment = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        style = opt.widget.style() if opt.widget else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        return QSize(COLUMN_WIDTHS.get(index.column(), 100), ROW_HEIGHT)


class QueueView(QTableView):
    """The table itself: whole-row selection, Up/Down moves through handoffs."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("queueTable")
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.setAlternatingRowColors(False)
        self.setSortingEnabled(False)  # the queue's order is the policy: priority, then age
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        vh = self.verticalHeader()
        vh.setVisible(False)
        vh.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vh.setDefaultSectionSize(ROW_HEIGHT)
        hh = self.horizontalHeader()
        hh.setHighlightSections(False)
        hh.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.setItemDelegate(QueueDelegate(self))

    def apply_column_widths(self) -> None:
        hh = self.horizontalHeader()
        for col, width in COLUMN_WIDTHS.items():
            hh.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
            self.setColumnWidth(col, width)
        # company and expertise share what is left (elided), so the table never scrolls sideways
        hh.setSectionResizeMode(COL_COMPANY, QHeaderView.ResizeMode.Stretch)
        hh.setSectionResizeMode(COL_EXPERTISE, QHeaderView.ResizeMode.Stretch)
        hh.setMinimumSectionSize(40)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)


class QueuePanel(QWidget):
    """Left pane: 'My expertise' / 'All' toggle, filter box, table; emits the selected handoff id."""

    handoff_selected = Signal(object)  # str | None

    def __init__(self, model: QueueModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("queuePanel")
        self.model = model
        self.proxy = QueueFilterProxy(self)
        self.proxy.setSourceModel(model)
        self._selected_id: str | None = None

        title = QLabel("Queue")
        title.setObjectName("paneTitle")
        self.count_label = QLabel("")
        self.count_label.setObjectName("muted")

        self.mine_button = QPushButton("My expertise")
        self.all_button = QPushButton("All")
        for b in (self.mine_button, self.all_button):
            b.setCheckable(True)
            b.setObjectName("segment")
            b.setCursor(Qt.CursorShape.PointingHandCursor)
        self.mine_button.setChecked(True)
        self.mine_button.setToolTip("Only handoffs whose required skills you have (Ctrl+E toggles)")
        self.all_button.setToolTip("Every queued handoff (Ctrl+E toggles)")
        group = QButtonGroup(self)
        group.setExclusive(True)
        group.addButton(self.mine_button)
        group.addButton(self.all_button)
        self.mine_button.toggled.connect(self.set_only_expertise)

        self.filter_edit = QLineEdit()
        self.filter_edit.setObjectName("filterEdit")
        self.filter_edit.setPlaceholderText("Filter by company, product, reason, skill…  (Ctrl+F)")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self.proxy.set_text)

        self.table = QueueView()
        # When the shown row leaves (claimed by someone else, resolved, filtered out), Qt moves
        # the current index to a neighbour; that must not switch the handoff being read. These
        # connections come before setModel so they run before the selection model's own.
        self._removing = False
        self.proxy.rowsAboutToBeRemoved.connect(self._before_remove)
        self.proxy.rowsRemoved.connect(self._after_remove)
        self.table.setModel(self.proxy)
        self.table.apply_column_widths()
        self.table.selectionModel().currentRowChanged.connect(self._on_current_row)

        self.empty_label = QLabel("")
        self.empty_label.setObjectName("emptyHint")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)

        head = QHBoxLayout()
        head.addWidget(title)
        head.addWidget(self.count_label)
        head.addStretch(1)
        head.addWidget(self.mine_button)
        head.addWidget(self.all_button)
        head.setSpacing(4)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 6, 8)
        layout.setSpacing(8)
        layout.addLayout(head)
        layout.addWidget(self.filter_edit)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty_label)

        for signal in (
            self.proxy.rowsInserted,
            self.proxy.rowsRemoved,
            self.proxy.modelReset,
            self.proxy.layoutChanged,
        ):
            signal.connect(self._refresh_count)
        self.proxy.modelReset.connect(self._restore_selection)
        self.proxy.layoutChanged.connect(self._restore_selection)
        self._refresh_count()

    # --- filtering ------------------------------------------------------------------------

    def set_only_expertise(self, on: bool) -> None:
        """Switch between 'My expertise' and 'All'; keeps the selection when it stays visible."""
        if self.mine_button.isChecked() != on:
            (self.mine_button if on else self.all_button).setChecked(True)
            return
        self.proxy.set_only_expertise(on)
        self._restore_selection()
        self._refresh_count()

    def toggle_expertise(self) -> None:
        self.set_only_expertise(not self.proxy.only_expertise)

    def focus_filter(self) -> None:
        self.filter_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.filter_edit.selectAll()

    # --- selection ------------------------------------------------------------------------

    def visible_ids(self) -> list[str]:
        return [self.proxy.index(r, 0).data(IdRole) for r in range(self.proxy.rowCount())]

    def select_id(self, handoff_id: str) -> bool:
        """Select a handoff by id if it is visible; True on success."""
        proxy_index = self._proxy_index(handoff_id)
        if proxy_index is None:
            return False
        self.table.setCurrentIndex(proxy_index)
        self.table.scrollTo(proxy_index)
        return True

    def select_first(self) -> bool:
        if self.proxy.rowCount() == 0:
            return False
        self.table.setCurrentIndex(self.proxy.index(0, 0))
        return True

    def _before_remove(self, *_args: object) -> None:
        self._removing = True

    def _after_remove(self, *_args: object) -> None:
        self._removing = False
        if self._selected_id and self._proxy_index(self._selected_id) is None:
            self.table.selectionModel().clear()
        else:
            self._restore_selection()

    def _proxy_index(self, handoff_id: str) -> QModelIndex | None:
        src_row = self.model.row_for_id(handoff_id)
        if src_row < 0:
            return None
        idx = self.proxy.mapFromSource(self.model.index(src_row, 0))
        return idx if idx.isValid() else None

    def _on_current_row(self, current: QModelIndex | QPersistentModelIndex, _previous: QModelIndex) -> None:
        if self._removing:
            return
        handoff_id = current.data(IdRole) if current.isValid() else None
        if handoff_id is None and self._selected_id is not None:
            # the row vanished (filtered out or claimed by someone else): keep showing it
            return
        if handoff_id != self._selected_id:
            self._selected_id = handoff_id
            self.handoff_selected.emit(handoff_id)

    def _restore_selection(self, *_args: object) -> None:
        if not self._selected_id:
            return
        idx = self._proxy_index(self._selected_id)
        if idx is None:
            return
        current = self.table.currentIndex()
        if current.isValid() and current.row() == idx.row():
            return
        self.table.selectionModel().blockSignals(True)
        self.table.setCurrentIndex(idx)
        self.table.selectionModel().blockSignals(False)
        self.table.selectRow(idx.row())

    def _refresh_count(self, *_args: object) -> None:
        shown, total = self.proxy.rowCount(), self.model.rowCount()
        self.count_label.setText(f"{shown}" if shown == total else f"{shown} of {total}")
        if total == 0:
            self.empty_label.setText("No handoffs waiting. New ones appear here live.")
        elif shown == 0:
            self.empty_label.setText("Nothing matches. Try “All” or clear the filter.")
        else:
            self.empty_label.setText("")
        self.empty_label.setVisible(shown == 0)
