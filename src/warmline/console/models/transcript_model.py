"""One conversation's transcript as a list model, ordered by seq and deduplicated by message id.

Messages reach the console twice (the answer to my own POST and the event that follows;
a replay after reconnect; the detail fetch racing live events), so merging is idempotent.

Replies still in the outbox (pending, waiting for the hub, or refused) follow the stored
messages as *pending rows*, in the order they were written. A pending row goes away when
its message arrives: by idempotency key when the POST answers, or earlier, when the
``message.created`` event brings my message with the same text (no duplicate bubble).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from warmline.console.client.outbox import EntryState, OutboxEntry
from warmline.domain.models import AuthorKind, Message

MessageRole = Qt.ItemDataRole.UserRole + 20
SeqRole = Qt.ItemDataRole.UserRole + 21
AuthorKindRole = Qt.ItemDataRole.UserRole + 22
InternalRole = Qt.ItemDataRole.UserRole + 23
HighlightRole = Qt.ItemDataRole.UserRole + 24
PendingRole = Qt.ItemDataRole.UserRole + 25  # the OutboxEntry of a pending row, else None

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
        self._pending: list[OutboxEntry] = []
        self._as_message: dict[str, Message] = {}  # pending rows drawn as (unsent) messages
        self._landed: set[str] = set()  # keys whose message already arrived through the stream

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
        self._pending, self._as_message, self._landed = [], {}, set()
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
        else:
            for m in batch:  # out of order (rare): place each one
                key = (m.seq, m.id)
                i = bisect.bisect_left(self._keys, key)
                self.beginInsertRows(QModelIndex(), i, i)
                self._messages.insert(i, m)
                self._keys.insert(i, key)
                self._ids.add(m.id)
                self.endInsertRows()
        if self._pending:
            for m in batch:
                self._settle_by_text(m)
        return len(batch)

    # --- pending replies (the outbox) ------------------------------------------------------

    def pending(self) -> list[OutboxEntry]:
        """The outbox rows shown after the stored messages, in order."""
        return list(self._pending)

    def set_pending(self, entries: Iterable[OutboxEntry]) -> None:
        """Show these outbox entries (those of this conversation) as pending rows."""
        for entry in list(self._pending):
            self.remove_pending(entry.key)
        for entry in sorted(entries, key=lambda e: e.order):
            self.upsert_pending(entry)

    def upsert_pending(self, entry: OutboxEntry) -> None:
        """Add or update one pending row (ignored for another conversation or a landed key)."""
        if entry.conversation_id != self._conversation_id or entry.key in self._landed:
            return
        for i, row in enumerate(self._pending):
            if row.key == entry.key:
                self._pending[i] = entry
                self._as_message.pop(entry.key, None)
                idx = self.index(len(self._messages) + i, 0)
                self.dataChanged.emit(idx, idx)
                return
        i = bisect.bisect_left([e.order for e in self._pending], entry.order)
        row = len(self._messages) + i
        self.beginInsertRows(QModelIndex(), row, row)
        self._pending.insert(i, entry)
        self.endInsertRows()

    def remove_pending(self, key: str) -> bool:
        for i, row in enumerate(self._pending):
            if row.key == key:
                r = len(self._messages) + i
                self.beginRemoveRows(QModelIndex(), r, r)
                del self._pending[i]
                self._as_message.pop(key, None)
                self.endRemoveRows()
                return True
        return False

    def confirm_pending(self, key: str, message: Message) -> None:
        """The hub answered my POST: the real message replaces the pending row."""
        self.merge([message])
        self._landed.add(key)
        self.remove_pending(key)

    def _settle_by_text(self, m: Message) -> None:
        """My message arrived by the stream before my POST's answer: retire its pending row."""
        if m.author_kind != AuthorKind.AGENT or m.internal or m.agent_id is None:
            return
        for entry in self._pending:
            if entry.state != EntryState.FAILED and entry.agent_id == m.agent_id and entry.body == m.body:
                self._landed.add(entry.key)
                self.remove_pending(entry.key)
                return

    def row_for_key(self, key: str) -> int:
        """Row of the pending reply with this idempotency key, or -1."""
        for i, row in enumerate(self._pending):
            if row.key == key:
                return len(self._messages) + i
        return -1

    def _pending_message(self, entry: OutboxEntry) -> Message:
        m = self._as_message.get(entry.key)
        if m is None:
            m = Message(
                id=f"pending:{entry.key}",
                conversation_id=entry.conversation_id,
                seq=0,
                author_kind=AuthorKind.AGENT,
                agent_id=entry.agent_id,
                body=entry.body,
                created_at=entry.created_at,
            )
            self._as_message[entry.key] = m
        return m

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
        return 0 if parent.isValid() else len(self._messages) + len(self._pending)

    def data(self, index: _AnyIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row = index.row()
        if row >= len(self._messages):
            entry = self._pending[row - len(self._messages)]
            if role == PendingRole:
                return entry
            if role == Qt.ItemDataRole.DisplayRole:
                return entry.body
            if role == MessageRole:
                return self._pending_message(entry)
            if role == AuthorKindRole:
                return AuthorKind.AGENT
            if role == Qt.ItemDataRole.ToolTipRole:
                if entry.state == EntryState.FAILED:
                    return f"Not sent: {entry.error}"
                if entry.held:
                    return "Held back: an earlier reply to this conversation was not sent"
                return entry.error or "Sending…"
            if role in (InternalRole, HighlightRole):
                return False
            return None
        m = self._messages[row]
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
        if role == PendingRole:
            return None
        return None
