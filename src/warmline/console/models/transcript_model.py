"""One conversation's transcript as a list model, ordered by seq and deduplicated by message id.

Messages reach the console twice (the answer to my own POST and the event that follows;
a replay after reconnect; the detail fetch racing live events), so merging is idempotent.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from warmline.domain.models import Message

MessageRole = Qt.ItemDataRole.UserRole + 20
SeqRole = Qt.ItemDataRole.UserRole + 21
AuthorKindRole = Qt.ItemDataRole.UserRole + 22
InternalRole = Qt.ItemDataRole.UserRole + 23
HighlightRole = Qt.ItemDataRole.UserRole + 24

_AnyIndex = QModelIndex | QPersistentModelIndex


class TranscriptModel(QAbstractListModel):
    """The thread as stored by the hub: buyer, AI, specialist and system lines, plus internal notes."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._conversation_id: str | None = None
        self._messages: list[Message] = []
        self._keys: list[tuple[int, str]] = []
        self._ids: set[str] = set()
        self._highlight_seq: int | None = None

    @property
    def conversation_id(self) -> str | None:
        return self._conversation_id

    def messages(self) -> list[Message]:
        return list(self._messages)

    def set_conversation(self, conversation_id: str | None, messages: Iterable[Message] = ()) -> None:
        """Switch to another conversation (clears), optionally filling it."""
        self.beginResetModel()
        self._conversation_id = conversation_id
        self._messages, self._keys, self._ids = [], [], set()
        self._highlight_seq = None
        batch = sorted(
            {m.id: m for m in messages if m.conversation_id == conversation_id}.values(),
            key=lambda m: (m.seq, m.id),
        )
        for m in batch:
            self._messages.append(m)
            self._keys.append((m.seq, m.id))
            self._ids.add(m.id)
        self.endResetModel()

    def merge(self, messages: Iterable[Message]) -> int:
        """Add the messages of this conversation not seen yet; returns how many were added."""
        fresh: dict[str, Message] = {}
        for m in messages:
            if m.conversation_id == self._conversation_id and m.id not in self._ids:
                fresh[m.id] = m
        if not fresh:
            return 0
        batch = sorted(fresh.values(), key=lambda m: (m.seq, m.id))
        if not self._keys or batch[0].seq > self._keys[-1][0]:
            first = len(self._messages)
            self.beginInsertRows(QModelIndex(), first, first + len(batch) - 1)
            for m in batch:
                self._messages.append(m)
                self._keys.append((m.seq, m.id))
                self._ids.add(m.id)
            self.endInsertRows()
            return len(batch)
        for m in batch:  # out of order (rare): place each one
            key = (m.seq, m.id)
            i = bisect.bisect_left(self._keys, key)
            self.beginInsertRows(QModelIndex(), i, i)
            self._messages.insert(i, m)
            self._keys.insert(i, key)
            self._ids.add(m.id)
            self.endInsertRows()
        return len(batch)

    def row_for_seq(self, seq: int) -> int:
        """Row of the message with this seq, or -1."""
        i = bisect.bisect_left(self._keys, (seq, ""))
        if i < len(self._keys) and self._keys[i][0] == seq:
            return i
        return -1

    def set_highlight(self, seq: int | None) -> int:
        """Mark one message (a packet item's source turn); returns its row or -1."""
        old = self.row_for_seq(self._highlight_seq) if self._highlight_seq is not None else -1
        self._highlight_seq = seq
        new = self.row_for_seq(seq) if seq is not None else -1
        for r in {old, new} - {-1}:
            idx = self.index(r, 0)
            self.dataChanged.emit(idx, idx, [HighlightRole])
        return new

    @property
    def highlight_seq(self) -> int | None:
        return self._highlight_seq

    # --- Qt model API ----------------------------------------------------------------

    def rowCount(self, parent: _AnyIndex = QModelIndex()) -> int:  # noqa: B008 - Qt signature
        return 0 if parent.isValid() else len(self._messages)

    def data(self, index: _AnyIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        m = self._messages[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return m.body
        if role == MessageRole:
            return m
        if role == SeqRole:
            return m.seq
        if role == AuthorKindRole:
            return m.author_kind
        if role == InternalRole:
            return m.internal
        if role == HighlightRole:
            return m.seq == self._highlight_seq
        return None
