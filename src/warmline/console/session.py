"""The console's controller: between the widgets and the hub client.

Widgets call plain methods (``select``, ``claim``, ``send``...) and listen to signals;
the session runs the network work as tasks it keeps references to (qasync's
``asyncSlot`` does not, qasync #98), feeds the Qt models, and reports outcomes as
signals. It never touches a widget.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from warmline.console.client import ConnectionState, EventStream, HubClient, HubError
from warmline.console.client.backoff import Backoff
from warmline.console.client.outbox import (
    EntryState,
    Outbox,
    OutboxEntry,
    OutboxLocked,
    OutboxSender,
    outbox_dir,
    outbox_path,
)
from warmline.console.models.assist_model import AssistModel
from warmline.console.models.attention import Attention
from warmline.console.models.queue_model import QueueModel
from warmline.console.models.transcript_model import TranscriptModel
from warmline.console.session_assist import ASSIST_EVENTS, AUTO_ASSIST_DELAY, SessionAssist
from warmline.domain.assist import AssistJob
from warmline.domain.models import (
    Agent,
    Event,
    EventType,
    HandoffDetail,
    HandoffStatus,
    HandoffSummary,
    Message,
    PrincipalKind,
)

log = logging.getLogger(__name__)

_STATE_FIELDS = ("status", "priority", "claimed_by", "claimed_at", "resolved_at", "required_skills")


class Session(SessionAssist, QObject):
    """One signed-in specialist's live view of the hub."""

    connection_changed = Signal(str, str)  # ConnectionState value, detail
    signed_in = Signal(object)  # Agent
    queue_loaded = Signal()
    current_changed = Signal(object)  # HandoffDetail | None: a new handoff is shown
    current_state_changed = Signal(object)  # HandoffDetail: same handoff, new status/owner
    notice = Signal(str, str)  # level (info|success|warning|error), sentence
    reply_sent = Signal(str)  # idempotency key: the hub has the message
    reply_failed = Signal(str, str)  # idempotency key, sentence: not queued, or refused by the hub
    reply_queued = Signal(str)  # idempotency key: on disk in the outbox, the composer may clear
    outbox_changed = Signal(int, int)  # replies waiting to be sent, replies refused (failed)
    acted = Signal(str, str)  # action (claim|release|resolve), handoff id: the hub accepted it
    sku_hits = Signal(str, object)  # assistant completion: prefix, list of catalog hits (dicts)
    history_found = Signal(str, object)  # History view: the query, and its HistoryPage (None: failed)
    reopened = Signal(str)  # handoff id: a resolved conversation is mine again
    buyer_typing = Signal(str)  # conversation id: the buyer is typing there (web widget)
    _typing_sent = float("-inf")  # when I last told the buyer I am typing (monotonic seconds)

    def __init__(
        self,
        client: HubClient,
        parent: QObject | None = None,
        *,
        tick_ms: int = 1000,
        outbox_dir: Path | None = None,
        backoff: tuple[float, float] = (0.25, 5.0),
    ) -> None:
        super().__init__(parent)
        self._outbox_dir = outbox_dir
        self.backoff = backoff  # (base, cap) seconds for reconnects and outbox retries
        self.outbox: Outbox | None = None  # opened once signed in (it is per hub and agent)
        self.sender: OutboxSender | None = None
        self.client = client
        self.queue = QueueModel(self)
        self.attention = Attention(self)  # unread buyer turns and waiting buyers, per held conversation
        self.queue.attention = self.attention
        self.attention.changed.connect(self.queue.refresh_conversation)
        self.transcript = TranscriptModel(self)
        self.assist = AssistModel(self)
        self.auto_assist_delay = AUTO_ASSIST_DELAY
        self._sku_search: asyncio.Task[Any] | None = None
        self._history_search: asyncio.Task[Any] | None = None
        self.assist_checked: set[str] = set()  # handoffs whose earlier/automatic lookups were handled
        self.me: Agent | None = None
        self.stream: EventStream | None = None
        self.current: HandoffDetail | None = None
        self._current_id: str | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closing = False
        self.loaded = False
        self.fatal: str | None = None  # why the console cannot work at all (bad token), if so
        self.hub_online = asyncio.Event()  # set while the event stream is connected
        self._clock = QTimer(self)
        self._clock.setInterval(tick_ms)
        self._clock.timeout.connect(self.queue.tick)

    # --- task keeping ------------------------------------------------------------------

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str = "") -> asyncio.Task[Any] | None:
        """Run a coroutine as a task we hold on to until it ends (or shutdown cancels it)."""
        if self._closing:
            coro.close()
            return None
        task = asyncio.get_event_loop().create_task(coro, name=name or None)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            log.error("console task %s failed", task.get_name(), exc_info=exc)
            self.notice.emit("error", f"Something went wrong: {exc}")

    @property
    def tasks(self) -> frozenset[asyncio.Task[Any]]:
        return frozenset(self._tasks)

    async def aclose(self) -> None:
        """The one way out: cancel and await every task, then close the HTTP client."""
        self._closing = True
        self._clock.stop()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if self.outbox is not None:
            self.outbox.close()
        await self.client.aclose()

    # --- start-up ------------------------------------------------------------------------

    def start(self) -> None:
        """Sign in, load the queue and follow the event stream (docs/api.md start-up protocol)."""
        self.spawn(self._start(), "session-start")

    async def _start(self) -> None:
        retry = Backoff(*self.backoff)
        while True:
            try:
                me = await self.client.me()
                if me.kind != PrincipalKind.AGENT or me.agent is None:
                    self.fatal = f"this token belongs to a {me.kind.value}; the console needs a specialist's"
                    self.connection_changed.emit(ConnectionState.UNAUTHORIZED.value, self.fatal)
                    self.notice.emit("error", f"Cannot sign in: {self.fatal}.")
                    return
                self.me = me.agent
                self.assist.agent_id = me.agent.id
                self.queue.set_agent(me.agent)
                self.signed_in.emit(me.agent)
                page = await self.client.list_handoffs()
                break
            except HubError as exc:
                if exc.status in (401, 403):
                    self.fatal = f"the hub refused this token ({exc.status}: {exc.message})"
                    self.connection_changed.emit(ConnectionState.UNAUTHORIZED.value, self.fatal)
                    self.notice.emit("error", f"Cannot sign in: {self.fatal}.")
                    return
                self.connection_changed.emit(ConnectionState.RECONNECTING.value, exc.message)
                await asyncio.sleep(retry.next())
        self._open_outbox(me.agent.id)
        self.queue.tick()
        self.queue.apply_many(page.items)
        for summary in page.items:
            self._track(summary)
        self.loaded = True
        self._clock.start()
        self.queue_loaded.emit()
        self.stream = EventStream(
            self.client,
            last_event_id=page.last_event_id,
            on_event=self.apply_event,
            on_state=self._on_stream_state,
            on_reset=lambda: self.spawn(self._reload_after_reset(), "reload-after-reset"),
            min_backoff=self.backoff[0],
            max_backoff=self.backoff[1],
        )
        await self.stream.run()

    # --- events --------------------------------------------------------------------------

    def _on_stream_state(self, state: ConnectionState, detail: str) -> None:
        if state == ConnectionState.CONNECTED:
            self.hub_online.set()  # lookups typed offline go now
            if self.sender is not None:
                self.sender.wake()  # the hub is back: send what waits now, not at the next backoff tick
        else:
            self.hub_online.clear()
        self.connection_changed.emit(state.value, detail)

    def apply_event(self, event: Event) -> None:
        """Bring the models up to date with one event from the hub's log."""
        if event.type in (
            EventType.HANDOFF_CREATED,
            EventType.HANDOFF_CLAIMED,
            EventType.HANDOFF_RELEASED,
            EventType.HANDOFF_RESOLVED,
            EventType.HANDOFF_UPDATED,
            EventType.HANDOFF_REQUEUED,  # reply timeout: back in the queue (issue 12)
            EventType.HANDOFF_TRANSFERRED,  # to a colleague, or to the queue with other skills
        ):
            self._apply_handoff(event.handoff())
            if event.type == EventType.HANDOFF_UPDATED and event.handoff_id == self._current_id:
                self.spawn(self._reload_current(event.handoff_id), "reload-current")
        elif event.type == EventType.MESSAGE_CREATED:
            message = event.message()
            self.transcript.merge([message])
            self.attention.on_message(message)
        elif event.type == EventType.CONVERSATION_TYPING:
            if event.data.get("author_kind") == "buyer" and event.conversation_id:
                self.buyer_typing.emit(event.conversation_id)
        elif event.type in ASSIST_EVENTS:
            self.assist.apply_job(AssistJob.model_validate(event.data["job"]))

    def _apply_handoff(self, summary: HandoffSummary) -> None:
        self.queue.apply(summary)
        self._track(summary)
        current = self.current
        if current is not None and current.id == summary.id:
            update = {k: getattr(summary, k) for k in _STATE_FIELDS}
            if any(getattr(current, k) != v for k, v in update.items()):
                self.current = current.model_copy(update=update)
                self.current_state_changed.emit(self.current)

    def _track(self, summary: HandoffSummary) -> None:
        """Keep unread state for every conversation I hold (and forget the ones I no longer do)."""
        conv = summary.conversation_id
        held = self.attention.state(conv) is not None
        if self.is_mine(summary) and not held:
            known = self.transcript.messages() if self.transcript.conversation_id == conv else []
            self.attention.hold(conv, known)
            if not known:
                self.spawn(self._load_attention(summary.id, conv), f"attention-{conv}")
        elif held and not self.is_mine(summary):
            self.attention.drop(conv)

    async def _load_attention(self, handoff_id: str, conversation_id: str) -> None:
        """A held conversation not on screen: its transcript says since when the buyer waits."""
        try:
            detail = await self.client.get_handoff(handoff_id)
        except HubError as exc:
            log.info("could not read %s for its unread state: %s", handoff_id, exc)
            return
        if self.attention.state(conversation_id) is not None:
            self.attention.hold(conversation_id, detail.conversation.messages)

    # --- selection -----------------------------------------------------------------------

    @property
    def current_id(self) -> str | None:
        return self._current_id

    def select(self, handoff_id: str | None) -> None:
        """Show a handoff: its packet and transcript (loaded in the background; latest wins)."""
        if handoff_id == self._current_id:
            return
        self._current_id = handoff_id
        self.current = None
        summary = self.queue.summary(handoff_id) if handoff_id else None
        self._show_conversation(summary.conversation_id if summary else None)
        self.current_changed.emit(None)
        if handoff_id:
            self.spawn(self._load(handoff_id), f"load-{handoff_id}")

    async def _load(self, handoff_id: str) -> None:
        try:
            detail = await self.client.get_handoff(handoff_id)
        except HubError as exc:
            if self._current_id == handoff_id:
                self.notice.emit("error", f"Could not open the handoff: {exc.message}")
            return
        if self._current_id != handoff_id:
            return  # the user moved on
        if self.transcript.conversation_id != detail.conversation_id:
            self._show_conversation(detail.conversation_id)
        # Merge, not replace: live messages may have arrived while we waited.
        self.transcript.merge(detail.conversation.messages)
        self.current = detail
        self.current_changed.emit(detail)
        self.spawn(self._load_assist(detail), f"assist-{handoff_id}")

    async def _reload_after_reset(self) -> None:
        """The hub's `reset` event (its retention removed events we had not seen): reload
        the queue, dropping rows the hub no longer lists, and the open handoff."""
        try:
            page = await self.client.list_handoffs()
        except HubError as exc:
            log.info("could not reload the queue after a reset: %s", exc)
            return
        listed = {s.id for s in page.items}
        for handoff_id in [i for i in self.queue.ids() if i not in listed]:
            self.queue.remove(handoff_id)
        self.queue.apply_many(page.items)
        for summary in page.items:
            self._track(summary)
        if self._current_id is not None:
            await self._reload_current(self._current_id)

    async def _reload_current(self, handoff_id: str) -> None:
        """The buyer added details and the packet changed: show the new one."""
        try:
            detail = await self.client.get_handoff(handoff_id)
        except HubError as exc:
            log.info("could not reload %s: %s", handoff_id, exc)
            return
        if self._current_id == handoff_id:
            self.transcript.merge(detail.conversation.messages)
            self.current = detail
            self.current_changed.emit(detail)

    def is_mine(self, handoff: HandoffSummary | None = None) -> bool:
        """True when I hold this (or the current) handoff."""
        h = handoff or self.current
        return bool(
            h is not None
            and self.me is not None
            and h.status == HandoffStatus.CLAIMED
            and h.claimed_by is not None
            and h.claimed_by.id == self.me.id
        )

    # --- actions -------------------------------------------------------------------------

    def claim(self) -> None:
        """Claim the current handoff (atomic on the hub; a lost race names the owner)."""
        if self.current is not None:
            self.spawn(self._act("claim", self.current.id), "claim")

    def release(self) -> None:
        """Put the current handoff back in the queue."""
        if self.current is not None:
            self.spawn(self._act("release", self.current.id), "release")

    def resolve(self, review: dict[str, Any] | None = None) -> None:
        """Close the current handoff (``review``: the resolve panel's outcome and review)."""
        if self.current is not None:
            review = review if isinstance(review, dict) else None  # (a QAction passes `checked`)
            self.spawn(self._act("resolve", self.current.id, review), "resolve")

    async def _act(self, action: str, handoff_id: str, review: dict[str, Any] | None = None) -> None:
        call = {"claim": self.client.claim, "release": self.client.release}
        company = self.current.buyer_company if self.current else ""
        try:
            if action == "resolve":
                handoff = await self.client.resolve(handoff_id, review)
            else:
                handoff = await call[action](handoff_id)
        except HubError as exc:
            if exc.owner is not None:
                if action == "claim":
                    text = f"{exc.owner.name} already claimed this handoff ({company})."
                else:
                    text = f"{exc.owner.name} holds this handoff now; you can read it but not {action} it."
                self.notice.emit("warning", text)
                with contextlib.suppress(HubError):  # show the true owner on the card
                    self._apply_handoff(await self.client.get_handoff(handoff_id))
            else:
                self.notice.emit("error", f"Could not {action}: {exc.message}")
            return
        self._apply_handoff(handoff)
        done = {"claim": "Claimed", "release": "Released", "resolve": "Resolved"}[action]
        self.notice.emit("success", f"{done}: {company or handoff_id}.")
        self.acted.emit(action, handoff_id)

    def typing(self) -> None:
        """I am typing a reply: the buyer's web widget shows it (one signal per 3 s at most)."""
        current = self.current
        now = asyncio.get_event_loop().time()
        if current is None or not self.is_mine() or not self.hub_online.is_set():
            return
        if now - self._typing_sent < 3.0:
            return
        self._typing_sent = now
        self.spawn(self._send_typing(current.conversation_id), "typing")

    async def _send_typing(self, conversation_id: str) -> None:
        with contextlib.suppress(HubError):  # best effort: a lost typing signal is harmless
            await self.client.typing(conversation_id)

    def send(self, body: str, idempotency_key: str) -> None:
        """Queue a reply in the current conversation: on disk first, then sent by the outbox.

        ``reply_queued`` means the text is safe (the composer may clear); ``reply_failed``
        right away means it could not even be queued (the composer keeps it); ``reply_sent``
        follows when the hub has it. Works while disconnected: the reply waits in the outbox.
        """
        current = self.current
        if current is None:
            self.reply_failed.emit(idempotency_key, "No handoff is open.")
            return
        if self.outbox is None or self.sender is None:
            self.reply_failed.emit(idempotency_key, "Not signed in to the hub yet.")
            return
        try:
            entry = self.outbox.add(
                key=idempotency_key,
                conversation_id=current.conversation_id,
                body=body,
                handoff_id=current.id,
                agent_id=self.me.id if self.me else None,
            )
        except OSError as exc:
            self.reply_failed.emit(idempotency_key, f"Could not keep the reply on disk ({exc}).")
            return
        self.transcript.upsert_pending(entry.snapshot())
        self.reply_queued.emit(idempotency_key)
        self._emit_outbox_count()
        self.sender.notify()

    def retry_reply(self, key: str) -> None:
        """Send a refused reply again, with its key (e.g. after claiming the handoff back)."""
        if self.outbox is None or self.sender is None:
            return
        entry = self.outbox.retry(key)
        if entry is not None:
            self.transcript.upsert_pending(entry.snapshot())
            self._refresh_held(entry.conversation_id)
            self._emit_outbox_count()
            self.sender.wake()

    def retry_failed_replies(self) -> int:
        """Retry every refused reply of the open conversation, oldest first; returns how many."""
        conv = self.transcript.conversation_id
        if self.outbox is None or conv is None:
            return 0
        failed = [e for e in self.outbox.entries(conv) if e.state == EntryState.FAILED]
        for entry in failed:
            self.retry_reply(entry.key)
        return len(failed)

    def discard_reply(self, key: str) -> None:
        """Drop a reply from the outbox (not while its POST is in flight)."""
        entry = self.outbox.get(key) if self.outbox is not None else None
        if self.outbox is not None and self.outbox.discard(key):
            self.transcript.remove_pending(key)
            self._emit_outbox_count()
            if entry is not None:
                self._refresh_held(entry.conversation_id)
                if self.sender is not None:
                    self.sender.wake()  # what it held back goes now

    def pending_replies(self) -> list[OutboxEntry]:
        """Every reply in the outbox (all conversations), oldest first."""
        return self.outbox.entries() if self.outbox is not None else []

    # --- history ---------------------------------------------------------------------------

    def find_history(self, q: str, status: str | None = None) -> None:
        """Search past and present conversations (the latest search wins: history_found)."""
        if self._history_search is not None and not self._history_search.done():
            self._history_search.cancel()
        self._history_search = self.spawn(self._find_history(q, status), "history")

    async def _find_history(self, q: str, status: str | None) -> None:
        try:
            page = await self.client.find_conversations(q, status=status)
        except HubError as exc:
            self.notice.emit("error", f"Could not search the history: {exc.message}")
            self.history_found.emit(q, None)
            return
        self.history_found.emit(q, page)

    def reopen(self, conversation_id: str) -> None:
        """The buyer wrote again after Resolve: a new handoff for this conversation, claimed by me."""
        self.spawn(self._reopen(conversation_id), "reopen")

    async def _reopen(self, conversation_id: str) -> None:
        try:
            handoff = await self.client.reopen(conversation_id)
        except HubError as exc:
            self.notice.emit("error", f"Could not reopen: {exc.message}")
            return
        self._apply_handoff(handoff)
        self.notice.emit("success", f"Reopened: {handoff.buyer_company}.")
        self.reopened.emit(handoff.id)

    # --- the outbox ----------------------------------------------------------------------

    def _open_outbox(self, agent_id: str) -> None:
        directory = self._outbox_dir or outbox_dir()
        path = outbox_path(directory, self.client.base_url, agent_id)
        try:
            try:
                self.outbox = Outbox(path)
            except OutboxLocked:
                # Another console of mine on this machine holds it: keep a file of my own.
                import os

                self.outbox = Outbox(path.with_name(f"{path.stem}.{os.getpid()}.jsonl"))
                self.notice.emit("warning", "Another console uses this outbox; this one keeps its own.")
        except OSError as exc:
            self.notice.emit("error", f"Cannot open the outbox at {path}: {exc}. Replies cannot be queued.")
            return
        self.sender = OutboxSender(
            self.outbox,
            self._post_reply,
            on_change=self._on_outbox_change,
            on_sent=self._on_outbox_sent,
            backoff=Backoff(*self.backoff),
        )
        if self.outbox.skipped_lines:
            log.warning("outbox %s: %d unreadable line(s) skipped", path, self.outbox.skipped_lines)
        if self.transcript.conversation_id is not None:
            self.transcript.set_pending(self.outbox.entries(self.transcript.conversation_id))
        self._emit_outbox_count()
        self.spawn(self.sender.run(), "outbox")

    async def _post_reply(self, entry: OutboxEntry) -> Message:
        return await self.client.post_message(
            entry.conversation_id, entry.body, idempotency_key=entry.key, retries=0
        )

    def _show_conversation(self, conversation_id: str | None) -> None:
        self.transcript.set_conversation(conversation_id)
        self.attention.set_open(conversation_id)
        if conversation_id is not None and self.outbox is not None:
            self.transcript.set_pending(self.outbox.entries(conversation_id))

    def _on_outbox_change(self, entry: OutboxEntry) -> None:
        self.transcript.upsert_pending(entry)
        self._refresh_held(entry.conversation_id)
        if entry.state == EntryState.FAILED:
            self.reply_failed.emit(entry.key, f"Not sent: {entry.error}")
            if entry.conversation_id != self.transcript.conversation_id:
                where = next(
                    (
                        s.buyer_company
                        for s in map(self.queue.summary, self.queue.ids())
                        if s is not None and s.conversation_id == entry.conversation_id
                    ),
                    "another conversation",
                )
                self.notice.emit("error", f"A reply to {where} was not sent: {entry.error}")
        self._emit_outbox_count()

    def _refresh_held(self, conversation_id: str) -> None:
        """Redraw the open conversation's waiting replies: held back or not behind a failed one."""
        if self.outbox is not None and conversation_id == self.transcript.conversation_id:
            for e in self.outbox.entries(conversation_id):
                if e.state != EntryState.FAILED:
                    self.transcript.upsert_pending(e.snapshot())

    def _on_outbox_sent(self, entry: OutboxEntry, message: Message) -> None:
        self.transcript.confirm_pending(entry.key, message)
        self.reply_sent.emit(entry.key)
        self._emit_outbox_count()

    def _emit_outbox_count(self) -> None:
        entries = self.outbox.entries() if self.outbox is not None else []
        failed = sum(e.state == EntryState.FAILED for e in entries)
        self.outbox_changed.emit(len(entries) - failed, failed)
