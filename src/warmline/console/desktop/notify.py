"""Which hub events become desktop notifications, grouped, filtered by the user's settings.

``Notifier.on_event`` sees every event the console applies (``tap_events``) and raises
``Notification``s through ``raised``; the tray shows them (``QSystemTrayIcon.showMessage``)
and clicking one opens its handoff. Kinds:

- new_handoff: a queued handoff I can take (my skills) was created; several within
  ``group_seconds`` become one "N new handoffs" notification opening the most urgent.
- buyer_message: a buyer wrote in a conversation I hold, while the window is not active.
- mention: ``agent.mentioned`` for me (a colleague's note naming ``@me``; the hub matches names).
- transfer: ``handoff.transferred`` to me (a colleague handed me a handoff they held).
- timeout: ``handoff.claim_expiring`` for my claim (the hub's reply timeout is near).

Quiet hours hold back pop-ups and sound (the tray count still updates).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time

from PySide6.QtCore import QObject, QTimer, Signal

from warmline.console.desktop.settings import Kind, Preferences
from warmline.domain.models import Agent, AuthorKind, Event, HandoffStatus, HandoffSummary, Message

TRANSFER_EVENTS = frozenset({"handoff.transferred"})
TIMEOUT_EVENTS = frozenset({"handoff.claim_expiring"})


@dataclass
class Notification:
    kind: str
    title: str
    body: str
    handoff_id: str | None
    count: int = 1
    quiet: bool = False  # held back by quiet hours (counted, not shown)


def _parse_hhmm(text: str) -> time | None:
    m = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", text or "")
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        return None
    return time(int(m.group(1)), int(m.group(2)))


def in_quiet_hours(prefs: Preferences, now: datetime | None = None) -> bool:
    """True inside [start, end) local time; a range may wrap past midnight (19:00-07:00)."""
    if not prefs.quiet_enabled:
        return False
    start, end = _parse_hhmm(prefs.quiet_start), _parse_hhmm(prefs.quiet_end)
    if start is None or end is None or start == end:
        return False
    t = (now or datetime.now()).time()
    return start <= t < end if start < end else (t >= start or t < end)


def tap_events(session: QObject, callback: Callable[[Event], None]) -> None:
    """Call ``callback`` after the session applies each event from the hub.

    The session passes its ``apply_event`` to the event stream when it starts, so this
    must run before ``session.start()`` has got that far (console_main's ``window_ready``).
    """
    original = session.apply_event  # type: ignore[attr-defined]

    def tapped(event: Event) -> None:
        original(event)
        callback(event)

    session.apply_event = tapped  # type: ignore[attr-defined]


class Notifier(QObject):
    """Turns events into notifications for the signed-in specialist."""

    raised = Signal(object)  # Notification
    unread_changed = Signal(int)

    def __init__(
        self,
        session: QObject,
        prefs: Preferences,
        *,
        window_active: Callable[[], bool],
        group_seconds: float = 2.0,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.prefs = prefs
        self.window_active = window_active
        self.shown: list[Notification] = []  # every notification raised (tests, the tray menu)
        self.unread = 0
        self._pending: list[HandoffSummary] = []
        self._group = QTimer(self)
        self._group.setSingleShot(True)
        self._group.setInterval(int(group_seconds * 1000))
        self._group.timeout.connect(self._flush_new)
        self._held: dict[str, HandoffSummary] | None = None  # conversation -> handoff I hold
        queue = session.queue  # type: ignore[attr-defined]
        for signal in (queue.rowsInserted, queue.rowsRemoved, queue.modelReset, queue.dataChanged):
            signal.connect(self._queue_changed)

    @property
    def me(self) -> Agent | None:
        return getattr(self.session, "me", None)

    def set_preferences(self, prefs: Preferences) -> None:
        self.prefs = prefs

    def mark_read(self) -> None:
        if self.unread:
            self.unread = 0
            self.unread_changed.emit(0)

    # --- events ------------------------------------------------------------------------

    def on_event(self, event: Event) -> None:
        me = self.me
        if me is None:
            return
        kind = str(event.type.value if hasattr(event.type, "value") else event.type)
        if kind == "handoff.created":
            handoff = event.handoff()
            if handoff.status == HandoffStatus.QUEUED and me.can_take(handoff.required_skills):
                self._pending.append(handoff)
                if not self._group.isActive():
                    self._group.start()
        elif kind == "message.created":
            self._on_message(event.message(), me)
        elif kind == "agent.mentioned":
            if event.data.get("agent_id") == me.id:
                message = Message.model_validate(event.data["message"])
                handoff = self._handoff_of_conversation(message.conversation_id)
                who = str(event.data.get("by") or message.author_name or "A colleague")
                self._raise(
                    Kind.MENTION,
                    f"{who} mentioned you",
                    _snippet(message.body),
                    handoff.id if handoff else None,
                )
        elif kind in TRANSFER_EVENTS:
            handoff = _handoff_of(event)
            to_me = (event.data.get("to_agent_id") == me.id) or bool(
                handoff and handoff.claimed_by and handoff.claimed_by.id == me.id
            )
            if to_me and event.data.get("from_agent_id") != me.id:
                who = str(event.data.get("from_agent_name") or "A colleague")
                company = handoff.buyer_company if handoff else ""
                note = str(event.data.get("note") or "")
                body = f"{company}: {_snippet(note)}" if note else company
                self._raise(Kind.TRANSFER, f"{who} transferred a handoff to you", body, event.handoff_id)
        elif kind in TIMEOUT_EVENTS and event.data.get("agent_id") == me.id:
            hid = event.handoff_id or event.data.get("handoff_id")
            summary = self.session.queue.summary(hid) if hid else None  # type: ignore[attr-defined]
            seconds = event.data.get("seconds_left")
            when = f" in {max(1, round(seconds / 60))} min" if isinstance(seconds, int | float) else " soon"
            company = summary.buyer_company if summary else ""
            self._raise(Kind.TIMEOUT, f"Reply soon: your handoff goes back to the queue{when}", company, hid)

    def _on_message(self, message: Message, me: Agent) -> None:
        if message.author_kind == AuthorKind.BUYER:
            held = self._held_handoff(message.conversation_id)
            if held is not None and not self.window_active():
                self.unread += 1
                self.unread_changed.emit(self.unread)
                title = f"{held.buyer_company or 'The buyer'} wrote"
                self._raise(Kind.BUYER_MESSAGE, title, _snippet(message.body), held.id)

    def _queue_changed(self, *_args: object) -> None:
        self._held = None  # rebuilt on the next buyer message (not on every queue tick)

    def _held_handoff(self, conversation_id: str) -> HandoffSummary | None:
        if self._held is None:
            queue = self.session.queue  # type: ignore[attr-defined]
            self._held = {r.summary.conversation_id: r.summary for r in queue.rows() if r.mine}
        return self._held.get(conversation_id)

    def _handoff_of_conversation(self, conversation_id: str) -> HandoffSummary | None:
        queue = self.session.queue  # type: ignore[attr-defined]
        for hid in queue.ids():
            s = queue.summary(hid)
            if s is not None and s.conversation_id == conversation_id:
                return s
        return None

    def _flush_new(self) -> None:
        arrived, self._pending = self._pending, []
        queue = self.session.queue  # type: ignore[attr-defined]
        # still waiting (not claimed in the meantime)
        waiting = [
            h for h in arrived if (s := queue.summary(h.id)) is None or s.status == HandoffStatus.QUEUED
        ]
        if not waiting:
            return
        waiting.sort(key=lambda h: (h.priority.rank, h.created_at))
        first = waiting[0]
        if len(waiting) == 1:
            title = f"New handoff: {first.buyer_company or first.product_family}"
            body = first.summary
        else:
            title = f"{len(waiting)} new handoffs for your expertise"
            body = "; ".join(h.buyer_company or h.product_family for h in waiting[:4])
            if len(waiting) > 4:
                body += f" and {len(waiting) - 4} more"
        self._raise(Kind.NEW_HANDOFF, title, body, first.id, count=len(waiting))

    def flush(self) -> None:
        """Raise the grouped new-handoff notification now (instead of at the end of the window)."""
        self._group.stop()
        self._flush_new()

    def _raise(self, kind: str, title: str, body: str, handoff_id: str | None, count: int = 1) -> None:
        if not self.prefs.notify.get(kind, True):
            return
        note = Notification(kind, title, body, handoff_id, count, quiet=in_quiet_hours(self.prefs))
        self.shown.append(note)
        self.raised.emit(note)


def _handoff_of(event: Event) -> HandoffSummary | None:
    try:
        return event.handoff() if "handoff" in event.data else None
    except Exception:
        return None


def _snippet(text: str, limit: int = 140) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
