"""The History window: find resolved and older conversations, open one, reopen it.

A non-modal window (View ▸ History…, Ctrl+H). Typing searches the hub as you pause
(``GET /v1/conversations``: company, buyer name, SKUs and message text); a status filter
narrows to resolved or open ones. Open shows the handoff in the main window (read-only when
resolved); Reopen, on a resolved conversation, opens a new handoff claimed by me: the one to
use when the buyer wrote again ("buyer wrote again" marks those rows).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from warmline.domain.history import HistoryItem, HistoryPage
from warmline.domain.models import HandoffStatus

if TYPE_CHECKING:
    from warmline.console.session import Session

DEBOUNCE_MS = 250
STATUS_FILTERS = (("All", None), ("Resolved", "resolved"), ("Open", "queued,claimed"))
HEADERS = ("Company", "Buyer", "Status", "Last message", "Found")


def status_text(item: HistoryItem) -> str:
    h = item.handoff
    if h.status == HandoffStatus.RESOLVED:
        return "Resolved · buyer wrote again" if item.buyer_wrote_after_resolve else "Resolved"
    if h.status == HandoffStatus.CLAIMED and h.claimed_by is not None:
        return f"Claimed by {h.claimed_by.name}"
    return "Waiting in queue"


class HistoryView(QDialog):
    """Search box, status filter, results; Open and Reopen act through the session."""

    open_requested = Signal(str)  # handoff id

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("historyView")
        self.setWindowTitle("History — Warmline")
        self.setModal(False)
        self.resize(860, 520)
        self.session = session
        self.items: list[HistoryItem] = []
        self.searches = 0  # answers shown (tests wait on it)

        self.search = QLineEdit()
        self.search.setObjectName("historySearch")
        self.search.setPlaceholderText("Company, buyer, SKU or words from the conversation…")
        self.search.setClearButtonEnabled(True)
        self.status = QComboBox()
        self.status.setObjectName("historyStatus")
        for label, value in STATUS_FILTERS:
            self.status.addItem(label, value)
        self.table = QTableWidget(0, len(HEADERS))
        self.table.setObjectName("historyTable")
        self.table.setHorizontalHeaderLabels(list(HEADERS))
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self.summary = QLabel("")
        self.summary.setObjectName("muted")
        self.open_button = QPushButton("Open")
        self.open_button.setObjectName("primary")
        self.reopen_button = QPushButton("Reopen")
        self.reopen_button.setToolTip("A new handoff for this conversation, claimed by you")

        top = QHBoxLayout()
        top.addWidget(self.search, 1)
        top.addWidget(self.status)
        bottom = QHBoxLayout()
        bottom.addWidget(self.summary, 1)
        bottom.addWidget(self.reopen_button)
        bottom.addWidget(self.open_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addLayout(bottom)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)
        self._debounce.timeout.connect(self.run_search)
        self.search.textChanged.connect(lambda _t: self._debounce.start())
        self.status.currentIndexChanged.connect(lambda _i: self.run_search())
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.itemDoubleClicked.connect(lambda _item: self.open_selected())
        self.open_button.clicked.connect(self.open_selected)
        self.reopen_button.clicked.connect(self.reopen_selected)
        session.history_found.connect(self.show_page)
        self._update_buttons()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.search.setFocus()
        self.run_search()

    def query(self) -> str:
        return self.search.text().strip()

    def run_search(self) -> None:
        self._debounce.stop()
        self.session.find_history(self.query(), self.status.currentData())

    def show_page(self, q: str, page: HistoryPage | None) -> None:
        if q != self.query():
            return  # an older search answered late
        self.searches += 1
        if page is None:
            self.summary.setText("The hub could not be searched; try again.")
            return
        self.items = list(page.items)
        self.table.setRowCount(len(self.items))
        for r, item in enumerate(self.items):
            at = item.last_message_at
            last = at.astimezone().strftime("%Y-%m-%d %H:%M") if at else ""
            cells = (item.handoff.buyer_company, item.buyer_name, status_text(item), last, item.snippet)
            for c, text in enumerate(cells):
                cell = QTableWidgetItem(text)
                cell.setToolTip(item.snippet or item.handoff.summary if c == 4 else text)
                if c == 2 and item.buyer_wrote_after_resolve:
                    font = cell.font()
                    font.setBold(True)
                    cell.setFont(font)
                self.table.setItem(r, c, cell)
        self.table.resizeColumnsToContents()  # at most 50 rows
        for c in range(len(HEADERS) - 1):
            self.table.setColumnWidth(c, min(self.table.columnWidth(c), 260))
        n = len(self.items)
        self.summary.setText(f"{n}{'+' if page.more else ''} conversation{'s' if n != 1 else ''}")
        if n:
            self.table.selectRow(0)
        self._update_buttons()

    def selected(self) -> HistoryItem | None:
        rows = self.table.selectionModel().selectedRows()
        return self.items[rows[0].row()] if rows and rows[0].row() < len(self.items) else None

    def _update_buttons(self) -> None:
        item = self.selected()
        self.open_button.setEnabled(item is not None)
        self.reopen_button.setEnabled(item is not None and item.handoff.status == HandoffStatus.RESOLVED)

    def open_selected(self) -> None:
        item = self.selected()
        if item is not None:
            self.open_requested.emit(item.handoff.id)

    def reopen_selected(self) -> None:
        item = self.selected()
        if item is not None and item.handoff.status == HandoffStatus.RESOLVED:
            self.reopen_button.setEnabled(False)
            self.session.reopen(item.handoff.conversation_id)
