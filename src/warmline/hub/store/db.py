"""The hub's database and its write discipline: ``Database`` (sessions, the background
SQLite checkpoints, the PostgreSQL listener) and ``Tx``, one write transaction = rows +
their events, then a wake-up of the event streams.

Beside it: ``bus`` (the wake-ups), ``pgscript`` (PostgreSQL's one-round-trip commit
script), ``fast`` (SQLite statements run straight on the driver), ``repository`` (queries)."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from warmline.domain.models import EventType
from warmline.hub.store import pgscript
from warmline.hub.store.bus import NOTIFY_CHANNEL, EventBus, listen_forever
from warmline.hub.store.fast import FAST_PATHS_KEY, FastStatement, run_batch
from warmline.hub.store.tables import EventRow, core
from warmline.storage.engine import create_engine
from warmline.storage.urls import is_sqlite, sqlite_path

log = logging.getLogger(__name__)

# SQLite: how often the hub checkpoints the WAL in the background (the inline fallback is
# warmline.storage.engine.WAL_FALLBACK_PAGES).
CHECKPOINT_SECONDS = 1.0


_EVENT_COLUMNS = ("type", "created_at", "conversation_id", "handoff_id", "data")
_INSERT_EVENT = FastStatement(insert(core(EventRow)), column_keys=_EVENT_COLUMNS)
# SQLite, one event (the common write): its id comes back, so the committed event can be
# handed to the process's event feed in memory (``Database.on_commit``)
_INSERT_EVENT_RETURNING = FastStatement(
    insert(core(EventRow)).returning(core(EventRow).c.id), column_keys=_EVENT_COLUMNS
)


def _event_rows(events: Sequence[PendingEvent]) -> list[dict[str, Any]]:
    """The events table's rows for ``events``, in order."""
    return [
        {
            "type": str(ev.type),
            "created_at": ev.created_at,
            "conversation_id": ev.conversation_id,
            "handoff_id": ev.handoff_id,
            "data": ev.data,
        }
        for ev in events
    ]


def utcnow() -> datetime:
    """Now, in UTC, timezone-aware (the only clock the hub uses)."""
    return datetime.now(UTC)


@dataclass
class PendingEvent:
    type: EventType
    conversation_id: str | None
    handoff_id: str | None
    data: dict[str, Any]
    created_at: datetime = field(default_factory=utcnow)


class StaleSeq(Exception):
    """PostgreSQL: a message position taken from the hub's conversation cache was not free at
    commit (another writer posted first, or the transaction could not stay one script).
    Nothing was written; the caller runs the write again without the cache."""


@dataclass(frozen=True, slots=True)
class CachedConversation:
    """What a poster needs of a conversation, as ``repository.reserve_seq`` returns it; the
    buyer and the AI flag never change after creation, ``last_seq`` is checked at commit."""

    last_seq: int
    buyer: Any
    ai_assistant: bool


CONVERSATION_CACHE_SIZE = 20_000
_UNCACHED: contextvars.ContextVar[bool] = contextvars.ContextVar("warmline_uncached", default=False)


@contextlib.contextmanager
def uncached() -> Iterator[None]:
    """Writes inside take no positions from the conversation cache (the retry after StaleSeq)."""
    token = _UNCACHED.set(True)
    try:
        yield
    finally:
        _UNCACHED.reset(token)


@dataclass
class Tx:
    """An open write transaction: the session, plus events to append just before commit."""

    session: AsyncSession
    events: list[PendingEvent] = field(default_factory=list)
    # PostgreSQL (Database.write): plain INSERTs nothing reads back in the transaction, sent
    # in the commit's script instead of one round trip each. None: run them at once.
    deferred: list[str] | None = None
    # SQLite (Database.write): the same INSERTs, run with the events in one thread round trip
    queued: list[tuple[FastStatement, Mapping[str, Any]]] | None = None
    # SQLite: the ids ``events`` got (set when they were appended one by one with RETURNING)
    event_ids: list[int] | None = None
    # PostgreSQL: the hub's conversation cache (Database.conversations), and the conversation
    # whose position this transaction took from it (checked at commit: _SEQ_GUARD)
    conversations: OrderedDict[str, CachedConversation] | None = None
    guarded: str | None = None
    after_commit: list[Callable[[], None]] = field(default_factory=list)

    def cached_conversation(self, conversation_id: str) -> CachedConversation | None:
        """PostgreSQL: the conversation with the next position reserved, from the cache and
        without a round trip (the bump is checked in the commit script); None on a miss,
        on SQLite, or when the transaction already sent something."""
        if self.conversations is None or self.guarded is not None or self.deferred is None:
            return None
        known = self.conversations.get(conversation_id)
        if known is None or not pgscript.literal_safe(conversation_id):
            return None
        taken = CachedConversation(known.last_seq + 1, known.buyer, known.ai_assistant)
        self.deferred.insert(
            0,
            pgscript.SEQ_GUARD.format(
                new=taken.last_seq, id=pgscript.literal(conversation_id), old=known.last_seq
            ),
        )
        self.guarded = conversation_id
        return taken

    def remember_conversation(self, conversation_id: str, row: Any) -> None:
        """After the commit, cache what ``reserve_seq`` (or the cache) gave for the next post."""
        cache = self.conversations
        if cache is None:
            return
        known = CachedConversation(int(row.last_seq), row.buyer, bool(row.ai_assistant))

        def remember() -> None:
            cache[conversation_id] = known
            cache.move_to_end(conversation_id)
            while len(cache) > CONVERSATION_CACHE_SIZE:
                cache.popitem(last=False)

        self.after_commit.append(remember)

    async def insert_at_commit(
        self, table: str, columns: Sequence[str], rows: Sequence[Mapping[str, Any]]
    ) -> bool:
        """Queue plain INSERTs to go to the server with the commit (True), or decline (False:
        the caller runs them now) -- on SQLite, outside ``Database.write``, or for values a
        script cannot carry. Their errors (IntegrityError included) surface at the commit,
        which is still inside ``write()``; nothing in the transaction may read the rows."""
        if self.queued is not None:
            statement = _queued_insert(table, tuple(columns))
            self.queued.extend((statement, row) for row in rows)
            return True
        if self.deferred is None or not all(pgscript.literal_safe(row[c]) for row in rows for c in columns):
            if self.guarded is not None:  # the guard must come first: redo without the cache
                raise StaleSeq(self.guarded)
            return False
        self.deferred.append(pgscript.insert_script(table, columns, rows))
        return True

    def emit(
        self,
        type: EventType,
        data: dict[str, Any],
        *,
        conversation_id: str | None = None,
        handoff_id: str | None = None,
    ) -> None:
        """Queue an event; it is written in this transaction or not at all."""
        self.events.append(PendingEvent(type, conversation_id, handoff_id, data))


_QUEUED_INSERTS: dict[tuple[str, tuple[str, ...]], FastStatement] = {}


def _queued_insert(table: str, columns: tuple[str, ...]) -> FastStatement:
    """``INSERT INTO table (columns)`` as a FastStatement, built once per table and columns."""
    statement = _QUEUED_INSERTS.get((table, columns))
    if statement is None:
        statement = FastStatement(insert(EventRow.metadata.tables[table]), column_keys=columns)
        _QUEUED_INSERTS[(table, columns)] = statement
    return statement


class Database:
    """The hub's database: engine, session factory, the writer discipline and the wake-up bus."""

    def __init__(self, database_url: str, *, fast_paths: bool = True, **engine_kwargs: Any) -> None:
        self.url = database_url
        self.sqlite = is_sqlite(database_url)
        # False: every write runs its statements one by one through SQLAlchemy and ends with
        # the session's COMMIT (no commit script, no position cache, no statements straight
        # on the SQLite driver: ``fast.FAST_PATHS_KEY``); HubSettings.fast_paths
        self.fast_paths = fast_paths
        self.engine = create_engine(database_url, **engine_kwargs)
        self.sessions = async_sessionmaker(
            self.engine, expire_on_commit=False, info={FAST_PATHS_KEY: fast_paths}
        )
        self.bus = EventBus()
        # PostgreSQL: recent conversations' positions and posters' facts (Tx.cached_conversation)
        self.conversations: OrderedDict[str, CachedConversation] | None = (
            None if self.sqlite or not fast_paths else OrderedDict()
        )
        self.stale_positions = 0  # posts whose cached position was taken meanwhile (redone)
        # SQLite has one writer; serialising here avoids "database is locked" and makes
        # event ids commit in id order. PostgreSQL uses an advisory lock for the latter.
        self._writer = asyncio.Lock() if self.sqlite else None
        self._listener: Any = None
        self._listener_task: asyncio.Task[None] | None = None
        self._checkpoint_task: asyncio.Task[None] | None = None
        # PostgreSQL: reads of a single statement need no transaction (its snapshot is the
        # statement's): no BEGIN and ROLLBACK round trips for the event feed's every read
        self._autocommit = (
            None
            if self.sqlite
            else async_sessionmaker(
                self.engine.execution_options(isolation_level="AUTOCOMMIT"),
                expire_on_commit=False,
                info={FAST_PATHS_KEY: fast_paths},
            )
        )
        # Server pids of this process's pooled connections: a NOTIFY one of them sent was
        # already announced on the bus by write(); waking the feed again for it cost a
        # second, empty read of the log per message.
        self._own_backends: set[int] = set()
        # Called after each commit whose event ids are known; True when it took
        # them all (the event feed, which then needs no read of the log for them), False to
        # have the bus wake the feed to read the log as usual (the log stays the truth).
        self.on_commit: Callable[[list[tuple[int, PendingEvent]]], bool] | None = None
        if not self.sqlite:
            self._track_backends()

    def _track_backends(self) -> None:
        backends = self._own_backends

        def pid(dbapi_conn: Any) -> int | None:
            driver = getattr(dbapi_conn, "_connection", None)
            try:
                return int(driver.get_server_pid()) if driver is not None else None
            except Exception:
                return None

        @event.listens_for(self.engine.sync_engine, "connect")
        def _connected(dbapi_conn: Any, _record: Any) -> None:
            if (p := pid(dbapi_conn)) is not None:
                backends.add(p)

        @event.listens_for(self.engine.sync_engine, "close")
        @event.listens_for(self.engine.sync_engine, "close_detached")
        def _closed(dbapi_conn: Any, *_args: Any) -> None:
            if (p := pid(dbapi_conn)) is not None:
                backends.discard(p)

        @event.listens_for(self.engine.sync_engine, "invalidate")
        def _invalidated(dbapi_conn: Any, _record: Any, _exc: Any) -> None:
            if dbapi_conn is not None and (p := pid(dbapi_conn)) is not None:
                backends.discard(p)

    def _notified(self, _conn: Any, pid: int, _channel: str, _payload: str) -> None:
        """LISTEN callback: wake the feed for other hubs' commits (ours woke it already)."""
        if pid not in self._own_backends:
            self.bus.notify()

    async def start(self, *, listen: bool = True) -> None:
        """Open what the process needs: on PostgreSQL, LISTEN for other hubs' events; on a
        SQLite file, the background WAL checkpoints."""
        if not self.sqlite and listen:
            self._listener_task = asyncio.create_task(
                listen_forever(self.url, self.bus, self._notified), name="warmline-pg-listen"
            )
        path = sqlite_path(self.url) if self.sqlite else None
        if path is not None:
            self._checkpoint_task = asyncio.create_task(
                self._checkpoints(path), name="warmline-wal-checkpoint"
            )

    async def _checkpoints(self, path: Path) -> None:
        """PASSIVE checkpoints every CHECKPOINT_SECONDS from a connection of their own, in a
        thread: they never wait for (or hold up) the writer or readers."""
        import sqlite3
        import threading

        conn: sqlite3.Connection | None = None
        # A cancelled ``to_thread`` leaves its checkpoint running in the worker thread; closing
        # the connection under it from this thread crashes the process (seen: a segfault at
        # hub shutdown). The lock makes the close wait for the checkpoint in flight.
        using = threading.Lock()
        closed = False

        def checkpoint() -> None:
            nonlocal conn
            with using:
                if closed:
                    return  # started after the close below: nothing to do
                if conn is None:
                    conn = sqlite3.connect(path, timeout=0.1, check_same_thread=False)
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

        try:
            while not self.bus.closed:
                await asyncio.sleep(CHECKPOINT_SECONDS)
                try:
                    await asyncio.to_thread(checkpoint)
                except sqlite3.Error as exc:  # busy or locked: the next one will do
                    log.debug("WAL checkpoint skipped: %s", exc)
        finally:
            with using:  # at most one checkpoint's time (its busy timeout is 0.1 s)
                closed = True
                if conn is not None:
                    conn.close()
                    conn = None

    async def close(self) -> None:
        """Stop listening, wake streams so they end, and dispose of the pool."""
        self.bus.close()
        for task in (self._listener_task, self._checkpoint_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        await self.engine.dispose()

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for reads; nothing written through it is kept."""
        async with self.sessions() as session:
            yield session

    @contextlib.asynccontextmanager
    async def read_statement(self) -> AsyncIterator[AsyncSession]:
        """A session for one read statement; on PostgreSQL without a transaction (autocommit:
        the statement is its own snapshot, and BEGIN and ROLLBACK cost a round trip each).
        Use ``read()`` for several statements that must see the same state."""
        sessions = self._autocommit or self.sessions
        async with sessions() as session:
            yield session

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[Tx]:
        """One write transaction; its queued events are appended at the end, then committed."""
        lock = self._writer if self._writer is not None else contextlib.nullcontext()
        tx: Tx | None = None
        committed = sent = False
        try:
            async with lock, self.sessions() as session, session.begin():
                fast = self.fast_paths
                tx = Tx(
                    session,
                    deferred=[] if fast and not self.sqlite else None,
                    queued=[] if fast and self.sqlite else None,
                    conversations=None if _UNCACHED.get() else self.conversations,
                )
                yield tx
                if tx.events and not fast:
                    await self._append_events_plain(tx)
                elif tx.events:
                    # (on PostgreSQL this commits; the session's own COMMIT is then a no-op, or
                    # ends an empty transaction where the driver could not be told)
                    sent = not self.sqlite
                    await self._append_events(tx, commit=True)
                elif tx.deferred:
                    await self._run_script(tx, commit=True)
                elif tx.queued:
                    await self._run_queued(tx, None)
            committed = True
            for then in tx.after_commit:
                then()
        finally:
            # on PostgreSQL also when something failed after the script was sent (it may have
            # committed): this process ignores its own connections' NOTIFYs, so the feed
            # must be woken here (a wake-up with nothing new costs one read)
            if tx is not None and tx.events and (committed or sent) and not self._handed_over(tx, committed):
                self.bus.notify()

    def _handed_over(self, tx: Tx, committed: bool) -> bool:
        """Give a committed transaction's events, with their ids, to ``on_commit`` (True if
        taken). Their ids are known on SQLite (RETURNING) and, for one event, on PostgreSQL
        (reported by the commit script)."""
        taker = self.on_commit
        if not committed or taker is None or tx.event_ids is None or len(tx.event_ids) != len(tx.events):
            return False
        try:
            return taker(list(zip(tx.event_ids, tx.events, strict=True)))
        except Exception:  # never lose the wake-up: the feed reads the log instead
            log.exception("event feed could not take committed events; reading the log")
            return False

    async def _append_events(self, tx: Tx, *, commit: bool = False) -> None:
        """Append the transaction's events; on PostgreSQL with ``commit``, commit it too."""
        session = tx.session
        if self.sqlite:
            rows = _event_rows(tx.events)
            # plain INSERTs (statements built once): no ORM unit of work for an append-only log
            if len(rows) == 1:  # with the queued INSERTs: one thread round trip; the id comes back
                returned = await self._run_queued(tx, rows[0])
                tx.event_ids = [int(returned[0][0])]
            else:
                await self._run_queued(tx, None)
                await _INSERT_EVENT.write(session, rows)
            return
        # PostgreSQL: the event-order lock is held to commit (so the next writer's event ids
        # come after ours AND become visible after ours: a reader that has seen id N has
        # seen everything below N). Its hold time bounds every hub's write rate, so lock,
        # insert, NOTIFY (no payload: it only wakes other hubs, which re-read the log) and,
        # from write(), COMMIT go to the server as one script: no hub round trip while the
        # lock is held, however busy the hub's event loop is.
        await self._run_script(tx, tx.events, commit=commit)

    async def _append_events_plain(self, tx: Tx) -> None:
        """Fast paths off: the events' INSERT through SQLAlchemy inside the transaction (on
        PostgreSQL after the event-order lock, then NOTIFY), committed by the session's own
        COMMIT. Their ids are not read back: the event feed reads the log for them."""
        session = tx.session
        if not self.sqlite:
            await session.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": pgscript.EVENT_LOCK_KEY}
            )
        rows = _event_rows(tx.events)
        for row in rows:  # one by one: ids in the transaction's order
            await session.execute(insert(core(EventRow)), row)
        if not self.sqlite:
            await session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": NOTIFY_CHANNEL})

    async def _run_queued(self, tx: Tx, event: Mapping[str, Any] | None) -> list[Any]:
        """SQLite: the transaction's queued INSERTs (and ``event``, RETURNING its id) in one
        thread round trip, after the ORM's pending rows; the event's rows, or []."""
        await tx.session.flush()  # the rest of the transaction is written first
        items = list(tx.queued or ())
        if tx.queued:
            tx.queued.clear()
        if event is not None:
            items.append((_INSERT_EVENT_RETURNING, event))
        results = await run_batch(tx.session, items)
        return results[-1] if event is not None else []

    async def _run_script(
        self, tx: Tx, events: list[PendingEvent] | None = None, *, commit: bool = False
    ) -> None:
        """PostgreSQL: the transaction's deferred INSERTs, then the events' script (committing
        with ``commit``), in one message. A single committed event's id comes back as an
        INFO message and is kept in ``tx.event_ids`` (the event feed then takes the event in
        memory); with several, the feed reads them from the log."""
        import asyncpg
        from sqlalchemy import exc as sa_exc

        session = tx.session
        await session.flush()  # the rest of the transaction is written first
        connection = await session.connection()
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None  # (the asyncpg connection)
        # Nothing sent yet (every statement of the write was deferred, e.g. a post whose
        # position came from the cache): the script opens the transaction and, committing,
        # closes it too -- the whole write is one round trip, and SQLAlchemy, which never
        # began a transaction on this connection, has nothing to end.
        idle = not driver.is_in_transaction()
        opened = idle and commit and getattr(raw.dbapi_connection, "_transaction", 0) is None
        if idle and not opened:
            # (not committing: let SQLAlchemy open its transaction, so the session owns its end)
            await connection.exec_driver_sql("SELECT 1")
        endable = commit and events and not opened
        ending = pgscript.endable_transaction(raw.dbapi_connection, driver) if endable else None
        if events:
            script = pgscript.append_events_script(events, commit=commit, end=opened or ending is not None)
        else:
            script = "COMMIT;" if opened else ""
        full = ("BEGIN;" if opened else "") + "".join(tx.deferred or ()) + script
        if tx.deferred:
            tx.deferred.clear()
        reported: list[int] = []

        def _info(_conn: Any, message: Any) -> None:
            text_ = str(getattr(message, "message", ""))
            if text_.startswith(pgscript.EVENT_ID_PREFIX):
                with contextlib.suppress(ValueError):
                    reported.append(int(text_[len(pgscript.EVENT_ID_PREFIX) :]))

        listening = bool(commit and events and len(events) == 1)  # (append_events_script's report)
        if listening:
            driver.add_log_listener(_info)
        try:
            await driver.execute(full)
        except BaseException as error:
            if opened:  # our transaction, not SQLAlchemy's: end it here
                with contextlib.suppress(Exception):
                    if driver.is_in_transaction():
                        await driver.execute("ROLLBACK")
            if isinstance(error, asyncpg.DivisionByZeroError) and tx.guarded is not None:
                self.stale_positions += 1
                if tx.conversations is not None:
                    tx.conversations.pop(tx.guarded, None)
                raise StaleSeq(tx.guarded) from error
            if isinstance(error, asyncpg.IntegrityConstraintViolationError):
                # as SQLAlchemy raises it for the same INSERT run on its own (callers catch it)
                raise sa_exc.IntegrityError(full[:200], None, error) from error
            raise
        finally:
            if listening:
                driver.remove_log_listener(_info)
        if ending is not None:
            pgscript.mark_ended(raw.dbapi_connection, driver, ending)
        # (the listener ran before this task resumed: asyncpg schedules it with call_soon
        # when the INFO arrives, ahead of the ReadyForQuery that completes execute())
        if len(reported) == 1:
            tx.event_ids = reported

    async def last_event_id(self) -> int:
        """The id of the newest event (0 when the log is empty)."""
        async with self.read() as session:
            return int((await session.scalar(select(func.coalesce(func.max(EventRow.id), 0)))) or 0)
