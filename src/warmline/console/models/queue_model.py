"""The live queue: a Qt table model over a plain sorted list of handoff rows.

The list is the truth and stays sorted (mine first, then priority, then oldest first),
so the proxy (``queue_proxy.QueueFilterProxy``) only filters: sorting 10,000 rows through a
Python ``lessThan`` would cost n·log n Python calls on every start, while a bisect insert
costs one. Each row carries precomputed text for the filter so a keystroke re-filters with
cheap ``in`` checks, in one Python list comprehension (the proxy keeps its accepted rows in a
plain list).
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Iterable
from dataclasses import dataclass

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QFont

from warmline.console.models.attention import Attention, format_wait
from warmline.console.theme import PRIORITY_LABELS
from warmline.domain.models import Agent, HandoffStatus, HandoffSummary
from warmline.domain.skills import Taxonomy, default_taxonomy

COL_STATUS = 0
COL_PRIORITY = 1
COL_COMPANY = 2
COL_REASON = 3
COL_FAMILY = 4
COL_EXPERTISE = 5
COL_AGE = 6
HEADERS = ("Status", "Priority", "Company", "Reason", "Family", "Expertise", "Waiting")

SortRole = Qt.ItemDataRole.UserRole
HandoffRole = Qt.ItemDataRole.UserRole + 1
IdRole = Qt.ItemDataRole.UserRole + 2
MineRole = Qt.ItemDataRole.UserRole + 3
TakeableRole = Qt.ItemDataRole.UserRole + 4
PriorityRole = Qt.ItemDataRole.UserRole + 5
ReasonRole = Qt.ItemDataRole.UserRole + 6
FilterRole = Qt.ItemDataRole.UserRole + 7
UnreadRole = Qt.ItemDataRole.UserRole + 8  # buyer turns I have not seen (conversations I hold)

# Above this many new rows at once, one model reset is cheaper than many insert runs.
RESET_THRESHOLD = 200

_AnyIndex = QModelIndex | QPersistentModelIndex


def format_age(seconds: float) -> str:
    """Compact, ticking-friendly age: 42s, 3m 05s, 1h 04m, 2d 03h."""
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    m, s = divmod(s, 60)
    if m < 60:
        return f"{m}m {s:02d}s"
    h, m = divmod(m, 60)
    if h < 24:
        return f"{h}h {m:02d}m"
    d, h = divmod(h, 24)
    return f"{d}d {h:02d}h"


@dataclass(slots=True)
class QueueRow:
    """One handoff as the queue shows it, with everything the filter and sort need precomputed."""

    summary: HandoffSummary
    key: tuple
    created_ts: float
    mine: bool
    takeable: bool
    search: str
    skills_text: str
    reason_label: str
    priority_label: str


class QueueModel(QAbstractTableModel):
    """Queued handoffs plus the ones I hold; others' claims and resolved ones leave the list."""

    def __init__(self, parent: QObject | None = None, *, taxonomy: Taxonomy | None = None) -> None:
        super().__init__(parent)
        self._taxonomy = taxonomy or default_taxonomy()
        self._agent: Agent | None = None
        self._rows: list[QueueRow] = []
        self._keys: list[tuple] = []
        self._by_id: dict[str, QueueRow] = {}
        self._now = time.time()
        self.attention: Attention | None = None  # unread and waiting buyers of what I hold
        self._bold = QFont()
        self._bold.setBold(True)
        self.version = 0  # bumped on every change of row positions (the proxy's cache key)

    # --- plain-data API -----------------------------------------------------------

    def set_agent(self, agent: Agent | None) -> None:
        """Who is signed in: decides 'mine' and 'in my expertise' for every row."""
        self._agent = agent
        summaries = [r.summary for r in self._rows]
        self.beginResetModel()
        self._rows, self._keys, self._by_id = [], [], {}
        for row in sorted((self._make_row(s) for s in summaries), key=lambda r: r.key):
            self._append_raw(row)
        self.endResetModel()

    @property
    def agent(self) -> Agent | None:
        return self._agent

    def row_for_id(self, handoff_id: str) -> int:
        """Row of a handoff, or -1 when it is not in the queue."""
        row = self._by_id.get(handoff_id)
        if row is None:
            return -1
        return bisect.bisect_left(self._keys, row.key)

    def summary(self, handoff_id: str) -> HandoffSummary | None:
        row = self._by_id.get(handoff_id)
        return row.summary if row else None

    def row_at(self, row: int) -> QueueRow:
        return self._rows[row]

    def ids(self) -> list[str]:
        """Handoff ids in display order (for tests and benchmarks)."""
        return [r.summary.id for r in self._rows]

    def belongs(self, summary: HandoffSummary) -> bool:
        """The queue rule: queued handoffs, plus claimed ones only when I hold them."""
        if summary.status == HandoffStatus.QUEUED:
            return True
        if summary.status == HandoffStatus.CLAIMED:
            return bool(self._agent and summary.claimed_by and summary.claimed_by.id == self._agent.id)
        return False

    def apply(self, summary: HandoffSummary) -> None:
        """Apply one handoff state (from an event or an answer) to the queue."""
        self.apply_many([summary])

    def apply_many(self, summaries: Iterable[HandoffSummary]) -> None:
        """Apply many handoff states; new rows go in with one begin/end per contiguous run."""
        latest: dict[str, HandoffSummary] = {}
        for s in summaries:
            latest[s.id] = s  # later states of the same handoff win
        new_rows: list[QueueRow] = []
        for s in latest.values():
            existing = self._by_id.get(s.id)
            keep = self.belongs(s)
            if existing is not None:
                if not keep:
                    self._remove(existing)
                    continue
                self._replace(existing, self._make_row(s))
            elif keep:
                new_rows.append(self._make_row(s))
        if new_rows:
            self._insert(new_rows)

    def remove(self, handoff_id: str) -> None:
        row = self._by_id.get(handoff_id)
        if row is not None:
            self._remove(row)

    def tick(self, now: float | None = None) -> None:
        """Advance the clock: only the age column changes, in one dataChanged."""
        self._now = time.time() if now is None else now
        if self._rows:
            self.dataChanged.emit(
                self.index(0, COL_AGE),
                self.index(len(self._rows) - 1, COL_AGE),
                [Qt.ItemDataRole.DisplayRole],
            )

    @property
    def now(self) -> float:
        return self._now

    def refresh_conversation(self, conversation_id: str) -> None:
        """Its unread count or waiting clock changed: repaint that row (held rows sort first)."""
        for i, row in enumerate(self._rows):
            if not row.mine:
                break
            if row.summary.conversation_id == conversation_id:
                self.dataChanged.emit(self.index(i, 0), self.index(i, len(HEADERS) - 1))
                return

    def unread(self, row: QueueRow) -> int:
        return self.attention.unread(row.summary.conversation_id) if self.attention and row.mine else 0

    def status_text(self, row: QueueRow) -> str:
        if not row.mine:
            return ""
        n = self.unread(row)
        return f"{n} new" if n else "Mine"

    def waiting_text(self, row: QueueRow) -> str:
        """Queued rows: how long the handoff waits; rows I hold: how long the buyer waits for me."""
        if row.mine and self.attention is not None:
            since = self.attention.waiting_since(row.summary.conversation_id)
            if since is not None:
                return f"buyer waiting {format_wait(self._now - since)}"
            return "answered"
        return format_age(self._now - row.created_ts)

    # --- internals -----------------------------------------------------------------

    def _make_row(self, s: HandoffSummary) -> QueueRow:
        mine = bool(self._agent and s.claimed_by and s.claimed_by.id == self._agent.id)
        takeable = self._agent.can_take(s.required_skills) if self._agent else True
        created_ts = s.created_at.timestamp()
        skills_text = ", ".join(self._taxonomy.label(k) for k in s.required_skills)
        reason_label = s.reason.label
        priority_label = PRIORITY_LABELS.get(s.priority, str(s.priority))
        search = " ".join(
            (
                s.buyer_company,
                s.summary,
                s.product_family,
                reason_label,
                skills_text,
                " ".join(s.required_skills),
                priority_label,
                s.claimed_by.name if s.claimed_by else "",
            )
        ).lower()
        return QueueRow(
            summary=s,
            key=(0 if mine else 1, s.priority.rank, created_ts, s.id),
            created_ts=created_ts,
            mine=mine,
            takeable=takeable,
            search=search,
            skills_text=skills_text,
            reason_label=reason_label,
            priority_label=priority_label,
        )

    def rows(self) -> list[QueueRow]:
        """The rows in display order (read-only use: the proxy filters over it in bulk)."""
        return self._rows

    def _append_raw(self, row: QueueRow) -> None:
        self.version += 1
        self._rows.append(row)
        self._keys.append(row.key)
        self._by_id[row.summary.id] = row

    def _remove(self, row: QueueRow) -> None:
        i = bisect.bisect_left(self._keys, row.key)
        self.beginRemoveRows(QModelIndex(), i, i)
        self.version += 1
        del self._rows[i]
        del self._keys[i]
        del self._by_id[row.summary.id]
        self.endRemoveRows()

    def _replace(self, old: QueueRow, row: QueueRow) -> None:
        """Update a row in place, moving it (not remove + insert) so selections survive."""
        i = bisect.bisect_left(self._keys, old.key)
        p = i if row.key == old.key else bisect.bisect_left(self._keys, row.key)
        if p in (i, i + 1):
            self._rows[i] = row
            self._keys[i] = row.key
            self._by_id[row.summary.id] = row
            self.version += 1
            self.dataChanged.emit(self.index(i, 0), self.index(i, len(HEADERS) - 1))
            return
        # Qt's destination counts in the numbering before the move; p is exactly that.
        self.beginMoveRows(QModelIndex(), i, i, QModelIndex(), p)
        self.version += 1
        del self._rows[i]
        del self._keys[i]
        j = p if p < i else p - 1
        self._rows.insert(j, row)
        self._keys.insert(j, row.key)
        self._by_id[row.summary.id] = row
        self.endMoveRows()
        self.dataChanged.emit(self.index(j, 0), self.index(j, len(HEADERS) - 1))

    def _insert(self, new_rows: list[QueueRow]) -> None:
        new_rows.sort(key=lambda r: r.key)
        if not self._rows or len(new_rows) > RESET_THRESHOLD:
            merged = sorted([*self._rows, *new_rows], key=lambda r: r.key) if self._rows else new_rows
            if not self._rows:
                self.beginInsertRows(QModelIndex(), 0, len(new_rows) - 1)
            else:
                self.beginResetModel()
            self._rows, self._keys, self._by_id = [], [], {}
            for row in merged:
                self._append_raw(row)
            if len(merged) == len(new_rows):
                self.endInsertRows()
            else:
                self.endResetModel()
            return
        # Group rows that land at the same position: each group is one contiguous insert.
        groups: list[tuple[int, list[QueueRow]]] = []
        for row in new_rows:
            pos = bisect.bisect_left(self._keys, row.key)
            if groups and groups[-1][0] == pos:
                groups[-1][1].append(row)
            else:
                groups.append((pos, [row]))
        offset = 0
        for pos, rows in groups:
            at = pos + offset
            self.beginInsertRows(QModelIndex(), at, at + len(rows) - 1)
            self.version += 1
            self._rows[at:at] = rows
            self._keys[at:at] = [r.key for r in rows]
            for r in rows:
                self._by_id[r.summary.id] = r
            self.endInsertRows()
            offset += len(rows)

    # --- Qt model API ------------------------------------------------------------------

    def rowCount(self, parent: _AnyIndex = QModelIndex()) -> int:  # noqa: B008 - Qt signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _AnyIndex = QModelIndex()) -> int:  # noqa: B008 - Qt signature
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        return None

    def data(self, index: _AnyIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        return self.cell(index.row(), index.column(), role)

    def cell(self, row_number: int, col: int, role: int = Qt.ItemDataRole.DisplayRole):
        """One cell's data by row number (the proxy reads through this, skipping index objects)."""
        row = self._rows[row_number]
        if role == Qt.ItemDataRole.DisplayRole:
            s = row.summary
            if col == COL_AGE:
                return self.waiting_text(row)
            if col == COL_PRIORITY:
                return row.priority_label
            if col == COL_REASON:
                return row.reason_label
            if col == COL_FAMILY:
                return s.product_family
            if col == COL_EXPERTISE:
                return row.skills_text
            if col == COL_COMPANY:
                return s.buyer_company
            if col == COL_STATUS:
                return self.status_text(row)
            return None
        if role == Qt.ItemDataRole.FontRole:
            return self._bold if self.unread(row) else None
        if role == UnreadRole:
            return self.unread(row)
        if role == Qt.ItemDataRole.ToolTipRole:
            s = row.summary
            tip = f"{s.buyer_company}\n{row.reason_label}: {s.summary}"
            if col == COL_EXPERTISE and row.skills_text:
                tip = f"Needs {row.skills_text}"
            n = self.unread(row)
            if n:
                tip += f"\n{n} new buyer message{'s' if n != 1 else ''}"
            if col == COL_AGE:
                wait = self.waiting_text(row)
                tip = wait if row.mine else f"Waiting in the queue for {wait}"
            if not row.takeable:
                tip += "\n(outside your expertise)"
            return tip
        if role == SortRole:
            return row.key
        if role == HandoffRole:
            return row.summary
        if role == IdRole:
            return row.summary.id
        if role == MineRole:
            return row.mine
        if role == TakeableRole:
            return row.takeable
        if role == PriorityRole:
            return row.summary.priority
        if role == ReasonRole:
            return row.summary.reason
        if role == FilterRole:
            return row.search
        return None
