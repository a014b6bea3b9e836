"""The event stream: replay from the log after a given id, then follow it live (SSE).

One ``EventFeed`` per hub process tails the log (woken by the bus, polling as a
fallback) and keeps the newest events in memory, already formatted as SSE frames, so N
open streams cost one query per change instead of N. A stream whose cursor is older
than what the feed holds replays from the database first, then joins the feed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from warmline.domain.models import Event, EventType, PrincipalKind
from warmline.hub.errors import field_error
from warmline.hub.principal import Principal
from warmline.hub.store import repository as repo
from warmline.hub.store.db import Database, PendingEvent
from warmline.hub.store.tables import EventRow

log = logging.getLogger(__name__)

BATCH = 500
FEED_CAPACITY = 5000
# Streams are woken at most this often: a burst of commits reaches them as one write each.
COALESCE_SECONDS = 0.015
# ...but only when this many streams are open: waking a few streams per commit costs little,
# while holding each event up to COALESCE_SECONDS put ~10 ms on every delivery in steady
# traffic (issue 2's latency target; docs/benchmarks.md, event delivery).
COALESCE_MIN_STREAMS = 16
# Streams wait without timers of their own; the feed wakes them this often (keepalives).
TICK_SECONDS = 1.0
BUYER_EVENT_TYPES = {EventType.CONVERSATION_CREATED.value, EventType.MESSAGE_CREATED.value}


def event_model(row: EventRow) -> Event:
    return Event(
        id=row.id,
        type=EventType(row.type),
        created_at=row.created_at,
        conversation_id=row.conversation_id,
        handoff_id=row.handoff_id,
        data=row.data,
    )


def format_sse(event: Event) -> str:
    """One SSE frame: id, event name and the Event as JSON."""
    data = json.dumps(event.model_dump(mode="json"), separators=(",", ":"))
    return f"id: {event.id}\nevent: {event.type.value}\ndata: {data}\n\n"


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """An event as streams need it: what filters look at, and the frame to send."""

    id: int
    type: str
    conversation_id: str | None
    internal: bool
    frame: str
    raw: bytes  # the frame, encoded once for every stream that sends it

    @classmethod
    def from_row(cls, row: EventRow) -> FeedEntry:
        internal = row.type == EventType.MESSAGE_CREATED.value and bool(
            (row.data or {}).get("message", {}).get("internal")
        )
        frame = format_sse(event_model(row))
        return cls(row.id, row.type, row.conversation_id, internal, frame, frame.encode())

    @classmethod
    def from_pending(cls, event_id: int, ev: PendingEvent) -> FeedEntry:
        """The entry for an event this process just committed (the same as read back)."""
        kind = str(ev.type)
        internal = kind == EventType.MESSAGE_CREATED.value and bool(
            (ev.data or {}).get("message", {}).get("internal")
        )
        event = Event(
            id=event_id,
            type=EventType(kind),
            created_at=ev.created_at,
            conversation_id=ev.conversation_id,
            handoff_id=ev.handoff_id,
            data=ev.data,
        )
        frame = format_sse(event)
        return cls(event_id, kind, ev.conversation_id, internal, frame, frame.encode())


def visible_to(principal: Principal, entry: FeedEntry) -> bool:
    """Buyers see only their conversation's transcript events, and no internal notes."""
    if principal.kind is not PrincipalKind.BUYER:
        return True
    return (
        entry.conversation_id == principal.conversation_id
        and entry.type in BUYER_EVENT_TYPES
        and not entry.internal
    )


class EventFeed:
    """Tails the event log once for the whole process and fans out to streams in memory.

    Invariant: ``entries`` holds every event with ``floor < id <= head``, in id order.
    """

    def __init__(
        self,
        db: Database,
        *,
        poll_seconds: float,
        capacity: int = FEED_CAPACITY,
        coalesce_seconds: float = COALESCE_SECONDS,
        tick_seconds: float = TICK_SECONDS,
    ) -> None:
        self.db = db
        self.poll_seconds = poll_seconds
        self.capacity = capacity
        self.coalesce_seconds = coalesce_seconds
        self.tick_seconds = tick_seconds
        self._ticker: asyncio.Task[None] | None = None
        self.entries: deque[FeedEntry] = deque()
        self.floor = 0
        self.head = 0
        self.version = 0
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._pulling = asyncio.Lock()

    @property
    def closed(self) -> bool:
        return self.db.bus.closed

    async def start(self) -> None:
        """Begin at the current end of the log and follow it."""
        self.head = self.floor = await self.db.last_event_id()
        self.db.on_commit = self.take
        self._task = asyncio.create_task(self._run(), name="warmline-event-feed")
        self._ticker = asyncio.create_task(self._tick(), name="warmline-event-feed-tick")

    async def close(self) -> None:
        if self.db.on_commit == self.take:
            self.db.on_commit = None
        self._wake()
        for task in (self._task, self._ticker):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _tick(self) -> None:
        """Wake every stream now and then, so each can send its keepalive without a timer.

        (A per-stream ``wait_for`` costs a task and a timer handle per stream per event,
        which was most of the fan-out's cost with hundreds of streams.)"""
        while not self.closed:
            await asyncio.sleep(self.tick_seconds)
            self._wake()

    def _wake(self) -> None:
        self.version += 1
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def _run(self) -> None:
        bus = self.db.bus
        failures = 0
        loop = asyncio.get_running_loop()
        last_pull = 0.0
        while not bus.closed:
            seen = bus.version
            # Coalesce: at most one read (and one wake of every stream) per interval; a
            # burst of commits then reaches each stream as one write. No delay when quiet.
            since_last = loop.time() - last_pull
            if since_last < self.coalesce_seconds and bus.streams >= COALESCE_MIN_STREAMS:
                await asyncio.sleep(self.coalesce_seconds - since_last)
            last_pull = loop.time()
            try:
                await self.pull()
                failures = 0
            except Exception as exc:  # database hiccup: streams keep waiting, we retry
                failures += 1
                log.warning("event feed could not read the log (%s); retrying", exc)
                await asyncio.sleep(min(0.2 * 2**failures, 2.0))
            await bus.wait(seen, self.poll_seconds)
        self._wake()

    async def pull(self) -> None:
        """Read everything new from the log into memory and wake the streams."""
        added = False
        async with self._pulling:  # one reader at a time, or entries could repeat
            while True:
                async with self.db.read_statement() as session:  # one statement: no transaction
                    rows = await repo.events_after(session, self.head, limit=BATCH)
                for row in rows:
                    self.entries.append(FeedEntry.from_row(row))
                if rows:
                    self.head = rows[-1].id
                    added = True
                while len(self.entries) > self.capacity:
                    self.floor = self.entries.popleft().id
                if len(rows) < BATCH:
                    break
        if added:
            self._wake()

    def take(self, committed: list[tuple[int, PendingEvent]]) -> bool:
        """Events this process just committed (SQLite), in memory instead of read back.

        Taken only when they are exactly the next ids after ``head`` and no read of the log
        is under way; otherwise False, and the caller wakes the feed to read the log, which
        stays the source of truth (gap-free, in id order)."""
        if self._pulling.locked() or self.closed or not committed:
            return False
        if self.db.bus.streams >= COALESCE_MIN_STREAMS:
            return False  # many streams: the coalescing read in _run wakes them in bursts
        expected = self.head
        for event_id, _ev in committed:
            expected += 1
            if event_id != expected:
                return False
        self.entries.extend([FeedEntry.from_pending(event_id, ev) for event_id, ev in committed])
        self.head = expected
        while len(self.entries) > self.capacity:
            self.floor = self.entries.popleft().id
        self._wake()
        return True

    def since(self, cursor: int) -> list[FeedEntry] | None:
        """Entries after ``cursor``, oldest first; None when the feed no longer holds them."""
        if cursor < self.floor:
            return None
        out: list[FeedEntry] = []
        for entry in reversed(self.entries):
            if entry.id <= cursor:
                break
            out.append(entry)
        out.reverse()
        return out

    async def wait(self, seen_version: int) -> None:
        """Return when new entries arrived after ``seen_version``, on close, or at the next tick."""
        if self.version != seen_version or self.closed:
            return
        await self._changed.wait()


async def _replay(db: Database, principal: Principal, after: int) -> tuple[list[FeedEntry], int]:
    """One batch from the database (for cursors older than the feed)."""
    conversation_id = principal.conversation_id if principal.kind is PrincipalKind.BUYER else None
    async with db.read_statement() as session:
        rows = await repo.events_after(session, after, limit=BATCH, conversation_id=conversation_id)
    return [FeedEntry.from_row(r) for r in rows], (rows[-1].id if rows else after)


def _frames(principal: Principal, entries: Sequence[FeedEntry]) -> bytes:
    if principal.kind is not PrincipalKind.BUYER:  # agents and bots see everything
        return entries[0].raw if len(entries) == 1 else b"".join(e.raw for e in entries)
    return b"".join(e.raw for e in entries if visible_to(principal, e))


async def stream_events(
    feed: EventFeed,
    principal: Principal,
    *,
    last_event_id: int | None,
    keepalive_seconds: float,
) -> AsyncIterator[bytes]:
    """SSE frames (bytes) forever: the backlog after ``last_event_id`` (or now), then live events."""
    db = feed.db
    cursor = last_event_id if last_event_id is not None else await db.last_event_id()
    db.bus.streams += 1
    try:
        yield f"retry: 2000\n: warmline event stream from {cursor}\n\n".encode()
        last_sent = time.monotonic()
        while not feed.closed:
            seen = feed.version
            entries = feed.since(cursor)
            if entries is None:  # older than memory: replay from the log, then look again
                batch, cursor = await _replay(db, principal, cursor)
                if frames := _frames(principal, batch):
                    yield frames
                    last_sent = time.monotonic()
                if len(batch) >= BATCH or cursor < feed.floor:
                    continue
                entries = feed.since(cursor) or []
            if entries:
                cursor = entries[-1].id
                if frames := _frames(principal, entries):
                    yield frames
                    last_sent = time.monotonic()
            if time.monotonic() - last_sent >= keepalive_seconds:
                yield b": keepalive\n\n"
                last_sent = time.monotonic()
            await feed.wait(seen)  # the feed's tick wakes us for keepalives
    finally:
        db.bus.streams -= 1


def parse_last_event_id(header: str | None, query: int | None) -> int | None:
    """The resume point: the Last-Event-ID header wins over ?last_event_id=."""
    if header is not None and header.strip():
        try:
            value = int(header.strip())
        except ValueError:
            raise field_error(
                ("header", "last-event-id"), "must be an integer event id", value=header
            ) from None
        if value < 0:
            raise field_error(("header", "last-event-id"), "must be >= 0", value=header)
        return value
    return query
