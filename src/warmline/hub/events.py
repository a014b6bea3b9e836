"""The event stream: replay from the log after a given id, then follow it live (SSE).

One ``EventFeed`` per hub process tails the log (woken by the bus, polling as a
fallback; this process's own single-event commits are handed over in memory) and keeps
the newest events in memory, already formatted as SSE frames, so N open streams cost one
query per change instead of N. A stream whose cursor is older than what the feed holds
replays from the database first; once caught up it attaches to the feed, which writes
each new frame to every attached stream from its own task (no task wake-up per stream
per event); a stream whose reader is too slow to take a write leaves the feed and
catches up on its own again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import Callable, Coroutine, Generator, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.types import Receive, Send

from warmline.domain.models import Event, EventType, PrincipalKind
from warmline.hub.errors import field_error
from warmline.hub.lifecycle.sweeps import oldest_event_id as repo_oldest_event_id
from warmline.hub.lifecycle.sweeps import trimmed_through
from warmline.hub.principal import Principal
from warmline.hub.store import repository as repo
from warmline.hub.store.db import Database, PendingEvent
from warmline.hub.store.tables import EventRow

log = logging.getLogger(__name__)

BATCH = 500
FEED_CAPACITY = 5000
# With many streams, the feed writes to them at most this often: a burst of commits reaches
# each stream as one write.
COALESCE_SECONDS = 0.015
# ...but only when this many streams are open: writing to a few streams per commit costs
# little, while holding each event up to COALESCE_SECONDS put ~10 ms on every delivery in
# steady traffic (issue 2's latency target; docs/benchmarks.md, event delivery).
COALESCE_MIN_STREAMS = 16
# With hundreds of streams the interval grows so that the feed makes at most about this many
# stream writes per second: each write is a socket send here and a read in the console, so
# both the hub's and the consoles' CPU follow writes/s, not events/s (docs/benchmarks.md,
# "Scale-out": 500 consoles at 100 msg/s). Capped at COALESCE_MAX_SECONDS of added latency.
FAN_OUT_WRITES_PER_SECOND = 12_500
COALESCE_MAX_SECONDS = 0.04
# Streams wait without timers of their own; the feed writes their keepalives this often.
TICK_SECONDS = 1.0
BUYER_EVENT_TYPES = {
    EventType.CONVERSATION_CREATED.value,
    EventType.MESSAGE_CREATED.value,
    EventType.CONVERSATION_TYPING.value,
}


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
    raw: bytes  # the SSE frame, encoded once for every stream that sends it

    @property
    def frame(self) -> str:
        return self.raw.decode()

    @classmethod
    def of(cls, event: Event) -> FeedEntry:
        kind = event.type.value
        internal = kind == EventType.MESSAGE_CREATED.value and bool(
            (event.data or {}).get("message", {}).get("internal")
        )
        return cls(event.id, kind, event.conversation_id, internal, format_sse(event).encode())

    @classmethod
    def from_row(cls, row: EventRow) -> FeedEntry:
        return cls.of(event_model(row))

    @classmethod
    def from_pending(cls, event_id: int, ev: PendingEvent) -> FeedEntry:
        """The entry for an event this process just committed (the same as read back)."""
        return cls.of(
            Event(
                id=event_id,
                type=EventType(str(ev.type)),
                created_at=ev.created_at,
                conversation_id=ev.conversation_id,
                handoff_id=ev.handoff_id,
                data=ev.data,
            )
        )


def visible_to(principal: Principal, entry: FeedEntry) -> bool:
    """Buyers see only their conversation's transcript events, and no internal notes."""
    if principal.kind is not PrincipalKind.BUYER:
        return True
    return (
        entry.conversation_id == principal.conversation_id
        and entry.type in BUYER_EVENT_TYPES
        and not entry.internal
    )


class _Resumed:
    """Awaitable continuing a coroutine that was started by hand and is suspended on ``first``."""

    __slots__ = ("coro", "first")

    def __init__(self, coro: Coroutine[Any, Any, Any], first: Any) -> None:
        self.coro = coro
        self.first = first

    def __await__(self) -> Generator[Any, Any, Any]:
        coro, value = self.coro, self.first
        while True:
            try:
                sent = yield value
            except BaseException as exc:  # cancelled while waiting: pass it on
                try:
                    value = coro.throw(exc)
                except StopIteration as stop:
                    return stop.value
            else:
                try:
                    value = coro.send(sent)
                except StopIteration as stop:
                    return stop.value


async def _finish(coro: Coroutine[Any, Any, Any], first: Any) -> None:
    await _Resumed(coro, first)


class StreamSink:
    """One open event stream as the feed sees it while the stream is caught up.

    The feed writes new frames to ``send`` itself, from its own task: a write that
    completes at once (the usual case: the server just queues the bytes) costs no task
    wake-up per stream. A write that has to wait (a slow reader) is finished in a task of
    its own, and the stream leaves the feed to catch up from its cursor on its own."""

    __slots__ = (
        "agent",
        "cursor",
        "ended",
        "error",
        "keepalive",
        "last_sent",
        "pending",
        "principal",
        "send",
        "wake",
    )

    def __init__(self, principal: Principal, send: Send, cursor: int, keepalive: float) -> None:
        self.principal = principal
        self.send = send
        self.cursor = cursor  # the newest event id written to this stream
        self.agent = principal.kind is not PrincipalKind.BUYER  # agents and bots see everything
        self.keepalive = keepalive
        self.last_sent = time.monotonic()
        self.wake: asyncio.Future[None] | None = None  # set when the stream's own task must act
        self.pending: asyncio.Task[None] | None = None  # a write that could not finish at once
        self.error: BaseException | None = None
        self.ended = False  # set by EventFeed.end_streams (a revoked token): the response ends

    def signal(self) -> None:
        if self.wake is not None and not self.wake.done():
            self.wake.set_result(None)


class EventFeed:
    """Tails the event log once for the whole process and fans out to streams in memory.

    Invariant: ``entries`` holds every event with ``floor < id <= head``, in id order; every
    attached sink has been written everything up to ``_fanned`` (or its own later cursor).
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
        self._fanned = 0  # entries up to this id have been written to the attached sinks
        self._sinks: dict[StreamSink, None] = {}  # attached (caught-up) streams, in attach order
        self.streams: set[StreamSink] = set()  # every open stream, attached or catching up
        # told when a stream opens (True) and ends (False): presence (warmline.hub.presence)
        self.on_stream: Callable[[Principal, bool], None] | None = None
        # ids (lo, hi) that never exist since a restore (lifecycle.backup): a cursor between
        # them saw events the restored log lacks, and gets a reset
        self.void: tuple[int, int] | None = None
        self._last_fan_out = 0.0
        self._fan_out_timer: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[None] | None = None
        self._pulling = asyncio.Lock()
        self.slow_writes = 0  # writes the feed handed to a stream's task (a slow reader)

    @property
    def closed(self) -> bool:
        return self.db.bus.closed

    async def start(self) -> None:
        """Begin at the current end of the log and follow it."""
        self.head = self.floor = self._fanned = await self.db.last_event_id()
        self.db.on_commit = self.take
        self._task = asyncio.create_task(self._run(), name="warmline-event-feed")
        self._ticker = asyncio.create_task(self._tick(), name="warmline-event-feed-tick")

    async def close(self) -> None:
        if self.db.on_commit == self.take:
            self.db.on_commit = None
        self._release_all()
        for task in (self._task, self._ticker):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    def attach(self, sink: StreamSink) -> bool:
        """Follow the feed from here (False: entries after the sink's cursor exist: catch up first)."""
        if self.closed or self.head > sink.cursor or self._fanned > sink.cursor:
            return False
        self._sinks[sink] = None
        return True

    def detach(self, sink: StreamSink) -> None:
        self._sinks.pop(sink, None)

    def end_streams(self, should_end: Callable[[Principal], bool]) -> int:
        """End the open streams whose principal ``should_end`` (revoked or expired tokens;
        warmline.hub.lifecycle.runner); how many. Each ends its response within a wake-up."""
        ended = 0
        for sink in list(self.streams):
            if not sink.ended and should_end(sink.principal):
                sink.ended = True
                self._sinks.pop(sink, None)
                sink.signal()
                ended += 1
        return ended

    def _release_all(self) -> None:
        """Hand every attached stream back to its own task (the hub is closing)."""
        sinks, self._sinks = self._sinks, {}
        for sink in sinks:
            sink.signal()

    async def _tick(self) -> None:
        """Keepalives for attached streams, from one task (no timer per stream)."""
        while not self.closed:
            await asyncio.sleep(self.tick_seconds)
            now = time.monotonic()
            for sink in list(self._sinks):
                if now - sink.last_sent >= sink.keepalive:
                    self._write(sink, KEEPALIVE, now)
        self._release_all()

    def interval(self, streams: int) -> float:
        """How long a burst is gathered before it is written to ``streams`` open streams."""
        return min(max(self.coalesce_seconds, streams / FAN_OUT_WRITES_PER_SECOND), COALESCE_MAX_SECONDS)

    def _changed(self) -> None:
        """New entries: write them to the attached streams now, or -- with many streams and
        a write less than ``coalesce_seconds`` ago -- at the end of that interval, so a
        burst of commits reaches each stream as one write."""
        if len(self._sinks) < COALESCE_MIN_STREAMS:
            self._fan_out()
            return
        if self._fan_out_timer is not None:
            return
        loop = asyncio.get_running_loop()
        due = self._last_fan_out + self.interval(len(self._sinks))
        if due <= loop.time():
            self._fan_out()
        else:
            self._fan_out_timer = loop.call_at(due, self._fan_out)

    def _fan_out(self) -> None:
        """Write every entry after ``_fanned`` to every attached stream."""
        self._fan_out_timer = None
        self._last_fan_out = asyncio.get_running_loop().time()
        new = self.since(self._fanned)
        self._fanned = self.head
        if new is None:  # (cannot happen with capacity > BATCH) -- streams catch up themselves
            self._release_all()
            return
        if not new or not self._sinks:
            return
        now = time.monotonic()
        everything: bytes | None = None
        first = new[0].id
        for sink in list(self._sinks):
            batch = new if first > sink.cursor else [e for e in new if e.id > sink.cursor]
            if not batch:
                continue
            sink.cursor = batch[-1].id
            if sink.agent and batch is new:
                if everything is None:
                    everything = _frames(sink.principal, new)
                data = everything
            else:
                data = _frames(sink.principal, batch)
            if data:
                self._write(sink, data, now)

    def _write(self, sink: StreamSink, data: bytes, now: float) -> None:
        """One body chunk to an attached stream, run right here if the server takes it at once."""
        coro = sink.send({"type": "http.response.body", "body": data, "more_body": True})
        try:
            first = coro.send(None)
        except StopIteration:
            sink.last_sent = now
            return
        except BaseException as exc:  # the connection failed: its task ends the stream
            self._sinks.pop(sink, None)
            sink.error = exc
            sink.signal()
            return
        # a slow reader (the server paused writing): finish in a task; the stream leaves the
        # feed and catches up from its cursor once this write is done
        self._sinks.pop(sink, None)
        self.slow_writes += 1
        sink.last_sent = now
        sink.pending = asyncio.ensure_future(_finish(coro, first))
        sink.signal()

    async def _run(self) -> None:
        bus = self.db.bus
        failures = 0
        loop = asyncio.get_running_loop()
        last_pull = 0.0
        while not bus.closed:
            seen = bus.version
            # Coalesce: at most one read per interval when many streams are open; a burst
            # of commits then reaches each stream as one write. No delay when quiet.
            since_last = loop.time() - last_pull
            interval = self.interval(bus.streams)
            if since_last < interval and bus.streams >= COALESCE_MIN_STREAMS:
                await asyncio.sleep(interval - since_last)
            last_pull = loop.time()
            try:
                await self.pull()
                failures = 0
            except Exception as exc:  # database hiccup: streams keep waiting, we retry
                failures += 1
                log.warning("event feed could not read the log (%s); retrying", exc)
                await asyncio.sleep(min(0.2 * 2**failures, 2.0))
            await bus.wait(seen, self.poll_seconds)
        self._release_all()

    async def pull(self) -> None:
        """Read everything new from the log into memory and write it to the streams."""
        async with self._pulling:  # one reader at a time, or entries could repeat
            while True:
                async with self.db.read_statement() as session:  # one statement: no transaction
                    rows = await repo.events_after(session, self.head, limit=BATCH)
                for row in rows:
                    self.entries.append(FeedEntry.from_row(row))
                if rows:
                    self.head = rows[-1].id
                    self._trim()
                    self._changed()  # before the next await: attached streams stay current
                if len(rows) < BATCH:
                    break

    async def rewrite(self, change: Callable[[FeedEntry], FeedEntry | None]) -> int:
        """Replace held entries in place (an erasure: warmline.hub.lifecycle.erasure), with no
        read of the log in flight (one could append entries read before the change); how many."""
        async with self._pulling:
            changed = 0
            for i, entry in enumerate(self.entries):
                new = change(entry)
                if new is not None:
                    self.entries[i] = new
                    changed += 1
            return changed

    def _trim(self) -> None:
        while len(self.entries) > self.capacity:
            self.floor = self.entries.popleft().id

    def take(self, committed: list[tuple[int, PendingEvent]]) -> bool:
        """Events this process just committed, in memory instead of read back.

        Taken only when they are exactly the next ids after ``head`` and no read of the log
        is under way; otherwise False, and the caller wakes the feed to read the log, which
        stays the source of truth (gap-free, in id order)."""
        if self._pulling.locked() or self.closed or not committed:
            return False
        expected = self.head
        for event_id, _ev in committed:
            expected += 1
            if event_id != expected:
                return False
        self.entries.extend([FeedEntry.from_pending(event_id, ev) for event_id, ev in committed])
        self.head = expected
        self._trim()
        self._changed()
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


async def _replay(db: Database, principal: Principal, after: int, upto: int) -> tuple[list[FeedEntry], int]:
    """One batch from the database (for cursors older than the feed), and the new cursor.

    ``upto`` is the feed's head when the batch was asked for: every event up to it is
    committed, so a batch shorter than BATCH has scanned the log up to there, and the
    cursor moves to ``upto`` even when nothing matched -- a buyer's filtered replay of a
    quiet conversation (or a gap in the ids) must not stay below the feed's floor and ask
    again forever. Rows after ``upto`` are left to the feed, which holds them."""
    conversation_id = principal.conversation_id if principal.kind is PrincipalKind.BUYER else None
    async with db.read_statement() as session:
        rows = await repo.events_after(session, after, limit=BATCH, conversation_id=conversation_id)
    batch = [FeedEntry.from_row(r) for r in rows if r.id <= upto]
    if len(rows) < BATCH or len(batch) < len(rows):
        return batch, max(upto, after)
    return batch, batch[-1].id


def _frames(principal: Principal, entries: Sequence[FeedEntry]) -> bytes:
    if principal.kind is not PrincipalKind.BUYER:  # agents and bots see everything
        return entries[0].raw if len(entries) == 1 else b"".join(e.raw for e in entries)
    return b"".join(e.raw for e in entries if visible_to(principal, e))


KEEPALIVE = b": keepalive\n\n"
SSE_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]


def reset_frame(resume_id: int, oldest_id: int) -> bytes:
    """The ``reset`` event: events after the client's cursor were removed by retention
    (docs/operations.md). The client reloads its state; the stream goes on after
    ``resume_id`` (its SSE id, so a reconnect resumes from there); ``oldest_id`` is the
    oldest event the log still holds (0: none)."""
    data = json.dumps(
        {"id": resume_id, "type": "reset", "data": {"oldest_id": oldest_id, "resume_id": resume_id}},
        separators=(",", ":"),
    )
    return f"id: {resume_id}\nevent: reset\ndata: {data}\n\n".encode()


async def _oldest_kept(db: Database) -> int:
    async with db.read_statement() as session:
        return await repo_oldest_event_id(session)


async def _until_disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def serve_events(
    feed: EventFeed,
    principal: Principal,
    *,
    last_event_id: int | None,
    keepalive_seconds: float,
    receive: Receive,
    send: Send,
) -> None:
    """The whole SSE response: the backlog after ``last_event_id`` (or now), then live.

    The stream's task writes the backlog itself (from memory, or from the log when older);
    once caught up it attaches to the feed, which writes live events to it, and sleeps
    until the client leaves, the hub closes, or a slow write sends it back to catching up."""
    db = feed.db
    cursor = last_event_id if last_event_id is not None else await db.last_event_id()
    await send({"type": "http.response.start", "status": 200, "headers": SSE_HEADERS})
    sink = StreamSink(principal, send, cursor, keepalive_seconds)

    async def write(data: bytes) -> None:
        await send({"type": "http.response.body", "body": data, "more_body": True})
        sink.last_sent = time.monotonic()

    loop = asyncio.get_running_loop()
    db.bus.streams += 1
    feed.streams.add(sink)
    if feed.on_stream is not None:
        feed.on_stream(principal, True)
    gone = asyncio.ensure_future(_until_disconnected(receive))
    try:
        await write(f"retry: 2000\n: warmline event stream from {cursor}\n\n".encode())
        if feed.void is not None and feed.void[0] < sink.cursor < feed.void[1]:
            sink.cursor = feed.head  # events this client saw were lost in a restore
            await write(reset_frame(sink.cursor, await _oldest_kept(db)))
        while not feed.closed and not gone.done() and not sink.ended:
            if sink.pending is not None:  # a write the feed started: it goes out first
                pending, sink.pending = sink.pending, None
                await pending
            if sink.error is not None:
                raise sink.error
            entries = feed.since(sink.cursor)
            if entries is None:  # older than memory: replay from the log (up to the feed's head)
                batch, cursor_after = await _replay(db, principal, sink.cursor, feed.head)
                if sink.cursor < await trimmed_through(db):  # (read after the batch: see sweeps)
                    # retention removed events after this cursor: say so, and go on from now
                    sink.cursor = feed.head
                    await write(reset_frame(sink.cursor, await _oldest_kept(db)))
                    continue
                sink.cursor = cursor_after
                if frames := _frames(principal, batch):
                    await write(frames)
                elif time.monotonic() - sink.last_sent >= keepalive_seconds:
                    await write(KEEPALIVE)  # a long filtered replay still says it is alive
                continue
            if entries:
                sink.cursor = entries[-1].id
                if frames := _frames(principal, entries):
                    await write(frames)
                continue
            if time.monotonic() - sink.last_sent >= keepalive_seconds:
                await write(KEEPALIVE)
            sink.wake = loop.create_future()
            if not feed.attach(sink):
                continue
            try:
                await asyncio.wait((gone, sink.wake), return_when=asyncio.FIRST_COMPLETED)
            finally:
                feed.detach(sink)
                sink.wake = None
        if not gone.done():  # the hub is closing: end the response cleanly
            await send({"type": "http.response.body", "body": b"", "more_body": False})
    except OSError:
        pass  # the client went away mid-write
    finally:
        db.bus.streams -= 1
        feed.streams.discard(sink)
        if feed.on_stream is not None:
            feed.on_stream(principal, False)
        feed.detach(sink)
        gone.cancel()
        if sink.pending is not None:
            sink.pending.cancel()


MAX_EVENT_ID = 2**63 - 1  # event ids are 64-bit


def parse_last_event_id(header: str | None, query: int | None) -> int | None:
    """The resume point: the Last-Event-ID header wins over ?last_event_id=."""
    if header is not None and header.strip():
        text = header.strip()
        if text.startswith("-") and text[1:].isascii() and text[1:].isdigit():
            raise field_error(("header", "last-event-id"), "must be >= 0", value=header)
        if not (text.isascii() and text.isdigit()):  # (int() also takes "+1", "1_0", "١")
            raise field_error(("header", "last-event-id"), "must be an integer event id", value=header)
        value = int(text) if len(text) <= 19 else MAX_EVENT_ID + 1
        if value > MAX_EVENT_ID:
            raise field_error(("header", "last-event-id"), f"must be <= {MAX_EVENT_ID}", value=header)
        return value
    return query
