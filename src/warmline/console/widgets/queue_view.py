"""The queue panel: expertise toggle, text filter and the live table (no per-row widgets).

Columns size from their content: a sample of rows (the queue's first ones, rows I hold
first), never ``resizeColumnsToContents`` over a big model; measured on the unfiltered queue,
so a filter keystroke costs no refit. Company and Expertise share what
is left, eliding with the whole text in the tooltip; when the pane is too narrow for every
column, Expertise, then Family, then Reason are hidden (still in the row's tooltip and the
card), so headers and chips stay whole. Rows with unread buyer turns are bold with a red "2 new" chip; the
Waiting column says how long the buyer has been waiting for me.
"""

from __future__ import annotations

from PySide6.QtCore import (
    QAbstractProxyModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen
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
    UnreadRole,
)
from warmline.console.models.queue_proxy import QueueFilterProxy
from warmline.console.theme import ACCENT, MINE_ROW_COLOR, PRIORITY_COLORS, REASON_COLORS

# Starting widths, before the first fit from content (measuring 10,000 rows would stall start-up:
# the fit samples SAMPLE_ROWS shown rows and every row I hold).
COLUMN_WIDTHS = {
    COL_STATUS: 60,
    COL_PRIORITY: 72,
    COL_COMPANY: 150,
    COL_REASON: 134,
    COL_FAMILY: 78,
    COL_EXPERTISE: 150,
    COL_AGE: 80,
}
ROW_HEIGHT = 34
SAMPLE_ROWS = 200
PILL_COLUMNS = (COL_STATUS, COL_PRIORITY, COL_REASON)
CELL_PAD = 22  # item padding plus a little air
PILL_PAD = 30  # chip padding and inset
MIN_COMPANY = 180  # company names up to this wide stay whole before Reason/Family/Expertise show
UNREAD_COLORS = ("#DC2626", "#FFFFFF")


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

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
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
                bg, fg = UNREAD_COLORS if index.data(UnreadRole) else (ACCENT, "#FFFFFF")
                paint_pill(painter, opt.rect, text, bg, fg, small)
            return
        if not index.data(TakeableRole) and not mine:
            opt.palette.setColor(opt.palette.ColorRole.Text, QColor("#9CA3AF"))
        if col == COL_AGE:
            opt.displayAlignment = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        style = opt.widget.style() if opt.widget else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
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

        self._fit_timer = QTimer(self)
        self._fit_timer.setSingleShot(True)
        self._fit_timer.setInterval(50)
        self._fit_timer.timeout.connect(self.fit_columns)
        # Columns the specialist sized by hand keep that width (and are remembered between runs,
        # console/desktop/appearance.py); a double click on the header's divider lets a column
        # fit its content again.
        self.pinned: dict[int, int] = {}
        self._fitting = False
        self._header_pressed = False  # a resize while the mouse is down on the header is by hand
        hh.viewport().installEventFilter(self)
        hh.sectionResized.connect(self._user_resized)
        hh.sectionHandleDoubleClicked.connect(self.unpin)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.MouseButtonPress:
            self._header_pressed = True
        elif event.type() == QEvent.Type.MouseButtonRelease:
            self._header_pressed = False
        return super().eventFilter(watched, event)

    def _user_resized(self, col: int, _old: int, new: int) -> None:
        if self._header_pressed and not self._fitting and new > 0 and col in COLUMN_WIDTHS:
            self.pinned[col] = new

    def unpin(self, col: int) -> None:
        self.pinned.pop(col, None)
        self.fit_columns()

    def pin_widths(self, widths: dict[int, int]) -> None:
        """Widths sized by hand in an earlier run (column -> pixels)."""
        self.pinned = {c: w for c, w in widths.items() if c in COLUMN_WIDTHS and w > 0}
        self.fit_columns()

    def apply_column_widths(self) -> None:
        hh = self.horizontalHeader()
        for col, width in COLUMN_WIDTHS.items():
            hh.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
            self.setColumnWidth(col, width)
        hh.setMinimumSectionSize(28)
        hh.setStretchLastSection(False)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        model = self.measured_model()
        if model is not None:  # the source: a filter keystroke never refits (nor repaints twice)
            for signal in (model.rowsInserted, model.rowsRemoved, model.modelReset):
                signal.connect(self.schedule_fit)
            model.dataChanged.connect(self._on_data_changed)
        self.fit_columns()

    def measured_model(self):
        """Columns are measured on the unfiltered queue (stable while the filter changes)."""
        model = self.model()
        source = model.sourceModel() if isinstance(model, QAbstractProxyModel) else None
        return source if source is not None else model

    def _on_data_changed(self, top_left: QModelIndex, bottom_right: QModelIndex, *_args: object) -> None:
        if not (top_left.column() == bottom_right.column() == COL_AGE) or self._age_grew():
            self.schedule_fit()

    def _age_grew(self) -> bool:
        return self.needed_width(COL_AGE) > self.columnWidth(COL_AGE)

    def schedule_fit(self, *_args: object) -> None:
        if not self._fit_timer.isActive():
            self._fit_timer.start()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.fit_columns()

    def sample_rows(self) -> list[int]:
        """The rows measured: the queue's first SAMPLE_ROWS (rows I hold sort first)."""
        model = self.measured_model()
        return list(range(min(model.rowCount(), SAMPLE_ROWS))) if model is not None else []

    def needed_width(self, col: int, rows: list[int] | None = None) -> int:
        """Width that shows the header and the sampled cells of a column whole."""
        model = self.measured_model()
        header_fm = QFontMetrics(self.horizontalHeader().font())
        label = str(model.headerData(col, Qt.Orientation.Horizontal) or "") if model else ""
        bold = QFont(self.font())
        bold.setBold(True)
        fm = QFontMetrics(bold)  # bold: unread rows and chips are bold
        need = header_fm.horizontalAdvance(label) + 2 * 8 + 10
        pad = PILL_PAD if col in PILL_COLUMNS else CELL_PAD
        if model is not None:
            for r in self.sample_rows() if rows is None else rows:
                text = model.index(r, col).data()
                if text:
                    need = max(need, fm.horizontalAdvance(str(text)) + pad)
        return need

    def fit_columns(self) -> None:
        """Size every column from its content (or the width it was given by hand); Company and
        Expertise share what is left."""
        model = self.measured_model()
        if model is None:
            return
        self._fitting = True
        try:
            self._fit(model)
        finally:
            self._fitting = False

    def _fit(self, model) -> None:
        rows = self.sample_rows()
        need = {c: self.pinned.get(c) or self.needed_width(c, rows) for c in COLUMN_WIDTHS}
        has_status = any(model.index(r, COL_STATUS).data() for r in rows)
        self.setColumnHidden(COL_STATUS, not has_status)
        avail = self.viewport().width() or self.width()
        fixed = [COL_PRIORITY, COL_AGE] + ([COL_STATUS] if has_status else [])
        optional = [COL_REASON, COL_FAMILY, COL_EXPERTISE]  # hidden from the right when narrow
        shown_optional = list(optional)
        while True:
            used = sum(need[c] for c in fixed) + sum(
                need[c] for c in shown_optional if c in (COL_REASON, COL_FAMILY)
            )
            rest = avail - used
            wants_expertise = COL_EXPERTISE in shown_optional
            company_min = min(MIN_COMPANY, need[COL_COMPANY])
            if rest - (90 if wants_expertise else 0) >= company_min or not shown_optional:
                break
            shown_optional.pop()  # Expertise, then Family, then Reason: all stay in the tooltip
        for c in optional:
            self.setColumnHidden(c, c not in shown_optional)
        for c in fixed:
            self.setColumnWidth(c, need[c])
        for c in (COL_REASON, COL_FAMILY):
            if c in shown_optional:
                self.setColumnWidth(c, need[c])
        rest = max(0, rest)
        if COL_EXPERTISE in shown_optional:
            company = min(need[COL_COMPANY], max(rest - need[COL_EXPERTISE], int(rest * 0.6)))
            if COL_COMPANY in self.pinned:
                company = self.pinned[COL_COMPANY]
            self.setColumnWidth(COL_COMPANY, company)
            self.setColumnWidth(COL_EXPERTISE, self.pinned.get(COL_EXPERTISE) or max(28, rest - company))
        else:
            self.setColumnWidth(COL_COMPANY, self.pinned.get(COL_COMPANY) or max(28, rest))


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

        self.offline_strip = QLabel("")
        self.offline_strip.setObjectName("offlineStrip")
        self.offline_strip.setWordWrap(True)
        self.offline_strip.hide()
        self.last_removed_row = -1  # where the shown handoff was when it left the list

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
        layout.addWidget(self.offline_strip)
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

    def select_near(self, row: int) -> bool:
        """Select the row now at this position (the next handoff after one left), else the last."""
        n = self.proxy.rowCount()
        if n == 0 or row < 0:
            return False
        self.table.setCurrentIndex(self.proxy.index(min(row, n - 1), 0))
        return True

    def forget_selection(self) -> None:
        """Something outside the queue is shown (a past handoff): no row stays selected."""
        self._selected_id = None
        self.table.selectionModel().clear()

    def set_offline(self, offline: bool, text: str = "") -> None:
        """A strip over the table: the queue is not live while the hub is unreachable."""
        self.offline_strip.setText(text)
        self.offline_strip.setVisible(offline)

    def _before_remove(self, _parent: QModelIndex, first: int, last: int) -> None:
        self._removing = True
        current = self.table.currentIndex()
        if current.isValid() and first <= current.row() <= last:
            self.last_removed_row = current.row()

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
