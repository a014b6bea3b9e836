"""What needs the specialist's eyes: unread buyer turns and waiting buyers, per held conversation.

The session feeds every ``message.created`` event here (the hub streams all of them to agents),
not only the open conversation's, so a buyer writing in another conversation I hold is counted.
Per conversation it keeps how many buyer turns arrived since I last had it open, and since when
the buyer has been waiting for a specialist's answer (the first buyer turn after the last
non-internal specialist reply). The queue shows both on the row; the window title shows the
total unread.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from warmline.domain.models import AuthorKind, Message


@dataclass(slots=True)
class ConversationAttention:
    unread: int = 0
    waiting_since: float | None = None  # epoch seconds of the buyer turn not answered yet
    last_seq: int = 0  # the newest seq seen, so a replayed event is not counted twice


class Attention(QObject):
    """Unread counts and buyer-waiting clocks of the conversations I hold."""

    changed = Signal(str)  # conversation id
    total_changed = Signal(int)  # unread buyer turns over every held conversation

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._by_conv: dict[str, ConversationAttention] = {}
        self.open_conversation: str | None = None
        self._total = 0

    def state(self, conversation_id: str) -> ConversationAttention | None:
        return self._by_conv.get(conversation_id)

    def unread(self, conversation_id: str) -> int:
        state = self._by_conv.get(conversation_id)
        return state.unread if state else 0

    def waiting_since(self, conversation_id: str) -> float | None:
        state = self._by_conv.get(conversation_id)
        return state.waiting_since if state else None

    @property
    def total_unread(self) -> int:
        return self._total

    def hold(self, conversation_id: str, messages: Iterable[Message] = ()) -> None:
        """Start tracking a conversation I hold; known messages set its waiting clock (and, when it
        is not open, count the buyer turns after my last reply as unread)."""
        state = self._by_conv.setdefault(conversation_id, ConversationAttention())
        fresh = ConversationAttention()  # a transcript is the whole truth up to its last seq
        for m in sorted(messages, key=lambda m: m.seq):
            self._see(fresh, m, count=conversation_id != self.open_conversation)
        if fresh.last_seq >= state.last_seq:
            self._by_conv[conversation_id] = fresh
        self._changed(conversation_id)

    def drop(self, conversation_id: str) -> None:
        """No longer mine (released, resolved, taken): forget it."""
        if self._by_conv.pop(conversation_id, None) is not None:
            self._changed(conversation_id)

    def held(self) -> list[str]:
        return list(self._by_conv)

    def set_open(self, conversation_id: str | None) -> None:
        """The conversation on screen: what it holds is read."""
        self.open_conversation = conversation_id
        state = self._by_conv.get(conversation_id) if conversation_id else None
        if state is not None and state.unread:
            state.unread = 0
            self._changed(conversation_id)  # type: ignore[arg-type]

    def on_message(self, m: Message) -> None:
        """A message from the stream (any conversation; only held ones count)."""
        state = self._by_conv.get(m.conversation_id)
        if state is None:
            return
        if self._see(state, m, count=m.conversation_id != self.open_conversation):
            self._changed(m.conversation_id)

    def _see(self, state: ConversationAttention, m: Message, *, count: bool) -> bool:
        if m.seq <= state.last_seq:
            return False
        state.last_seq = m.seq
        if m.internal:
            return False
        if m.author_kind == AuthorKind.BUYER:
            if state.waiting_since is None:
                state.waiting_since = m.created_at.timestamp()
            if count:
                state.unread += 1
            return True
        if m.author_kind == AuthorKind.AGENT:
            state.waiting_since = None
            state.unread = 0  # I answered it: whatever came before is read
            return True
        return False

    def _changed(self, conversation_id: str) -> None:
        self.changed.emit(conversation_id)
        total = sum(s.unread for s in self._by_conv.values())
        if total != self._total:
            self._total = total
            self.total_changed.emit(total)


def format_wait(seconds: float) -> str:
    """'buyer waiting 4m' style: under a minute, minutes, then hours and minutes."""
    s = max(0, int(seconds))
    if s < 60:
        return "<1m"
    m = s // 60
    if m < 60:
        return f"{m}m"
    h, m = divmod(m, 60)
    return f"{h}h {m:02d}m"
