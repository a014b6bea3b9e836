"""The queue's filter: 'My expertise' and free text over the already sorted QueueModel.

Kept apart from the model because it is the hot path of a keystroke: plain Python list
work instead of a Python ``filterAcceptsRow`` call per row (see the class docstring).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

from PySide6.QtCore import QAbstractProxyModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from warmline.console.models.queue_model import COL_AGE, HEADERS, QueueModel, QueueRow

_AnyIndex = QModelIndex | QPersistentModelIndex
_ROW_FLAGS = Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemNeverHasChildren


class QueueFilterProxy(QAbstractProxyModel):
    """'My expertise' and free-text filtering over the (already sorted) queue, in plain Python.

    The accepted source rows live in one ascending Python list, so a keystroke is one list
    comprehension plus one layout change, instead of Qt calling a Python ``filterAcceptsRow``
    once per source row (QSortFilterProxyModel's cost, ~1 µs of call overhead per row).
    The layout change remaps persistent indexes, so the view's selection and current row
    survive a keystroke whenever the handoff still matches. Source inserts and removals are
    applied incrementally (the view sees row inserts and removals); the age tick's
    dataChanged is forwarded for visible rows only and never re-filters; a whole-row change
    (a replaced handoff) re-decides that row.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._only_expertise = True
        self._words: tuple[str, ...] = ()
        self._source: QueueModel | None = None
        self._source_rows: list[int] = []  # accepted source rows, ascending; index = proxy row
        self._connections: list[tuple[object, object]] = []
        self._saved_persistent: list[QModelIndex] = []
        self._saved_source: list[QPersistentModelIndex] = []

    # --- public filter API ----------------------------------------------------------------

    def setSourceModel(self, model: QueueModel | None) -> None:  # type: ignore[override]
        """Attach the queue model; the proxy follows its inserts, removals, moves and resets."""
        self.beginResetModel()
        for signal, slot in self._connections:
            signal.disconnect(slot)  # type: ignore[attr-defined]
        self._connections = []
        super().setSourceModel(model)  # type: ignore[arg-type]  # None detaches
        self._source = model
        if model is not None:
            for signal, slot in (
                (model.rowsInserted, self._on_rows_inserted),
                (model.rowsAboutToBeRemoved, self._on_rows_about_to_be_removed),
                (model.rowsRemoved, self._on_rows_removed),
                (model.rowsAboutToBeMoved, self._begin_layout),
                (model.rowsMoved, self._end_layout),
                (model.layoutAboutToBeChanged, self._begin_layout),
                (model.layoutChanged, self._end_layout),
                (model.modelAboutToBeReset, self._on_about_to_reset),
                (model.modelReset, self._on_reset),
                (model.dataChanged, self._on_data_changed),
            ):
                signal.connect(slot)
                self._connections.append((signal, slot))
        self._source_rows = self._decide(None)
        self.endResetModel()

    @property
    def only_expertise(self) -> bool:
        return self._only_expertise

    @property
    def text(self) -> str:
        return " ".join(self._words)

    def set_only_expertise(self, on: bool) -> None:
        """Default view shows only handoffs I can take; off shows all."""
        if on == self._only_expertise:
            return
        narrowing = on  # turning the expertise rule on only hides rows
        self._begin_layout()
        self._only_expertise = on
        self._end_layout(candidates=self._source_rows if narrowing else None)

    def set_text(self, text: str) -> None:
        """Every word must appear in company, summary, family, reason, skills or priority."""
        words = tuple(text.lower().split())
        if words == self._words:
            return
        # When every old word is inside some new word, the new match set is a subset of the
        # current one (typing on narrows), so only the rows shown now need checking.
        narrowing = all(any(o in n for n in words) for o in self._words)
        self._begin_layout()
        self._words = words
        self._end_layout(candidates=self._source_rows if narrowing else None)

    def accepts(self, row: QueueRow) -> bool:
        """The filter rule for one row."""
        if self._only_expertise and not (row.takeable or row.mine):
            return False
        search = row.search
        return all(w in search for w in self._words)

    def source_rows(self) -> list[int]:
        """Accepted source rows in display order (read-only; for tests and benchmarks)."""
        return self._source_rows

    # --- deciding ------------------------------------------------------------------------

    def _decide(self, candidates: list[int] | None) -> list[int]:
        """Accepted source rows, ascending: one list comprehension over all rows or candidates."""
        if self._source is None:
            return []
        rows = self._source.rows()
        only, words = self._only_expertise, self._words
        if candidates is not None:
            if not words:
                return (
                    [i for i in candidates if rows[i].takeable or rows[i].mine] if only else list(candidates)
                )
            if len(words) == 1:
                w = words[0]
                if only:
                    return [
                        i for i in candidates if w in rows[i].search and (rows[i].takeable or rows[i].mine)
                    ]
                return [i for i in candidates if w in rows[i].search]
            return [i for i in candidates if self.accepts(rows[i])]
        if not words:
            if only:
                return [i for i, r in enumerate(rows) if r.takeable or r.mine]
            return list(range(len(rows)))
        if len(words) == 1:
            w = words[0]
            if only:
                return [i for i, r in enumerate(rows) if w in r.search and (r.takeable or r.mine)]
            return [i for i, r in enumerate(rows) if w in r.search]
        accepts = self.accepts
        return [i for i, r in enumerate(rows) if accepts(r)]

    def _proxy_row(self, source_row: int) -> int:
        """Proxy row of a source row, or -1 when it is filtered out (bisect: the list is sorted)."""
        rows = self._source_rows
        j = bisect.bisect_left(rows, source_row)
        return j if j < len(rows) and rows[j] == source_row else -1

    # --- layout changes (filter changes, source moves) ------------------------------------

    def _begin_layout(self, *_args: object) -> None:
        """Before a re-filter: remember which source row each persistent proxy index shows."""
        self.layoutAboutToBeChanged.emit()
        self._saved_persistent = self.persistentIndexList()
        self._saved_source = [QPersistentModelIndex(self.mapToSource(i)) for i in self._saved_persistent]

    def _end_layout(self, *_args: object, candidates: list[int] | None = None) -> None:
        """Re-filter, point persistent indexes (selection, current row) at their rows' new places."""
        self._source_rows = self._decide(candidates)
        if self._saved_persistent:
            new = [self.mapFromSource(s) for s in self._saved_source]
            self.changePersistentIndexList(self._saved_persistent, new)
        self._saved_persistent, self._saved_source = [], []
        self.layoutChanged.emit()

    # --- incremental source changes -------------------------------------------------------

    def _on_rows_inserted(self, parent: _AnyIndex, first: int, last: int) -> None:
        if parent.isValid() or self._source is None:
            return
        count = last - first + 1
        rows = self._source.rows()
        accepts = self.accepts
        added = [i for i in range(first, last + 1) if accepts(rows[i])]
        at = bisect.bisect_left(self._source_rows, first)
        # Renumber first (silently: every proxy row still shows the same handoff), so views
        # reading rows during the insert signals see the source as it is now.
        self._source_rows[at:] = [s + count for s in self._source_rows[at:]]
        if added:
            self.beginInsertRows(QModelIndex(), at, at + len(added) - 1)
            self._source_rows[at:at] = added
            self.endInsertRows()

    def _on_rows_about_to_be_removed(self, parent: _AnyIndex, first: int, last: int) -> None:
        # Proxy rows go while the source still has them, so views can read them one last time.
        if parent.isValid():
            return
        lo = bisect.bisect_left(self._source_rows, first)
        hi = bisect.bisect_right(self._source_rows, last)
        if hi > lo:
            self.beginRemoveRows(QModelIndex(), lo, hi - 1)
            del self._source_rows[lo:hi]
            self.endRemoveRows()

    def _on_rows_removed(self, parent: _AnyIndex, first: int, last: int) -> None:
        if parent.isValid():
            return
        count = last - first + 1
        at = bisect.bisect_right(self._source_rows, last)
        self._source_rows[at:] = [s - count for s in self._source_rows[at:]]

    def _on_about_to_reset(self) -> None:
        self.beginResetModel()

    def _on_reset(self) -> None:
        self._source_rows = self._decide(None)
        self.endResetModel()

    def _on_data_changed(
        self, top_left: QModelIndex, bottom_right: QModelIndex, roles: Sequence[int] = ()
    ) -> None:
        """Forward changes of visible rows; a whole-row change may show or hide that row."""
        if self._source is None or not top_left.isValid():
            return
        top, bottom = top_left.row(), bottom_right.row()
        left, right = top_left.column(), bottom_right.column()
        if not (left == right == COL_AGE):
            # a replaced handoff (new company, skills, claim): re-decide just those rows
            rows = self._source.rows()
            for i in range(top, bottom + 1):
                shown = self._proxy_row(i) >= 0
                if self.accepts(rows[i]) != shown:
                    self._toggle_row(i, show=not shown)
        lo = bisect.bisect_left(self._source_rows, top)
        hi = bisect.bisect_right(self._source_rows, bottom)
        if hi > lo:
            self.dataChanged.emit(self.index(lo, left), self.index(hi - 1, right), list(roles))

    def _toggle_row(self, source_row: int, *, show: bool) -> None:
        """Show or hide one source row as a proxy insert or removal."""
        j = bisect.bisect_left(self._source_rows, source_row)
        if show:
            self.beginInsertRows(QModelIndex(), j, j)
            self._source_rows.insert(j, source_row)
            self.endInsertRows()
        else:
            self.beginRemoveRows(QModelIndex(), j, j)
            del self._source_rows[j]
            self.endRemoveRows()

    # --- Qt proxy API ----------------------------------------------------------------------

    def data(self, index: _AnyIndex, role: int = Qt.ItemDataRole.DisplayRole):
        # Overridden (not QAbstractProxyModel's mapToSource round trip): painting asks for
        # ~10 roles per visible cell, and each mapToSource builds a source index object.
        if self._source is None or not index.isValid():
            return None
        return self._source.cell(self._source_rows[index.row()], index.column(), role)

    def flags(self, index: _AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return _ROW_FLAGS

    def mapToSource(self, proxy_index: _AnyIndex) -> QModelIndex:
        if self._source is None or not proxy_index.isValid():
            return QModelIndex()
        row = proxy_index.row()
        if row >= len(self._source_rows):
            return QModelIndex()
        return self._source.index(self._source_rows[row], proxy_index.column())

    def mapFromSource(self, source_index: _AnyIndex) -> QModelIndex:
        if not source_index.isValid():
            return QModelIndex()
        j = self._proxy_row(source_index.row())
        return QModelIndex() if j < 0 else self.createIndex(j, source_index.column())

    def index(self, row: int, column: int, parent: _AnyIndex = QModelIndex()) -> QModelIndex:  # noqa: B008
        if parent.isValid() or not (0 <= row < len(self._source_rows)) or not (0 <= column < len(HEADERS)):
            return QModelIndex()
        return self.createIndex(row, column)

    def parent(self, _index: _AnyIndex = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        return QModelIndex()

    def sibling(self, row: int, column: int, _index: _AnyIndex) -> QModelIndex:
        return self.index(row, column)

    def rowCount(self, parent: _AnyIndex = QModelIndex()) -> int:  # noqa: B008 - Qt signature
        return 0 if parent.isValid() else len(self._source_rows)

    def columnCount(self, parent: _AnyIndex = QModelIndex()) -> int:  # noqa: B008 - Qt signature
        return 0 if parent.isValid() or self._source is None else len(HEADERS)

    def hasChildren(self, parent: _AnyIndex = QModelIndex()) -> bool:  # noqa: B008 - Qt signature
        return not parent.isValid() and bool(self._source_rows)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if self._source is None:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return self._source.headerData(section, orientation, role)
        return None
