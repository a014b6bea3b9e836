"""The sweeps: expired idempotency keys, events past retention, buyer tokens of resolved
conversations. Each deletes in bounded batches -- one short transaction per batch, found
through an index (idempotency_keys.created_at; the events' primary key) -- with a pause
between batches, so requests keep being served while a large backlog is removed.

Several hub instances may run them at once: on PostgreSQL a batch first takes a
transaction-level try-lock (another instance sweeping the same table makes this one stop
at once); on SQLite the hub's writer lock serializes batches anyway.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
import weakref
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from warmline.hub.lifecycle import state
from warmline.hub.store.db import Database, Tx, utcnow
from warmline.hub.store.tables import EventRow, HandoffRow, IdempotencyRow, TokenRow
from warmline.storage.urls import sqlite_path

# pg_try_advisory_xact_lock keys, one per sweep (the event-order lock uses its own key)
_LOCKS = {"idempotency": 0x5717_0001, "events": 0x5717_0002, "tokens": 0x5717_0003}
PAUSE_SECONDS = 0.005  # between batches: the loop and the writer are free for requests
MAX_PAUSE_SECONDS = 0.1


async def _pause(started: float) -> None:
    """Rest between batches about as long as the batch took (up to MAX_PAUSE_SECONDS): a
    sweep takes at most about half of the writer's time, so requests wait for at most one
    batch, and a busy hub slows its sweeps down."""
    await asyncio.sleep(min(MAX_PAUSE_SECONDS, max(PAUSE_SECONDS, time.perf_counter() - started)))


async def _mine(tx: Tx, db: Database, sweep: str) -> bool:
    """PostgreSQL: False when another instance is running this sweep right now."""
    if db.sqlite:
        return True
    got = await tx.session.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": _LOCKS[sweep]})
    return bool(got)


async def sweep_idempotency(db: Database, ttl_s: float, batch: int, *, max_batches: int | None = None) -> int:
    """Delete idempotency keys older than ``ttl_s``; how many went."""
    if ttl_s <= 0:
        return 0
    cutoff = utcnow() - timedelta(seconds=ttl_s)
    total = batches = 0
    while max_batches is None or batches < max_batches:
        batches += 1
        started = time.perf_counter()
        conn = _sweep_connection(db) if db.sqlite else None
        if conn is not None:
            gone = await asyncio.to_thread(_sqlite_batch, conn, _delete_keys(cutoff, batch))
        else:
            async with db.write() as tx:
                if not await _mine(tx, db, "idempotency"):
                    break
                gone = await _delete_idempotency(tx, cutoff, batch)
        total += gone
        if gone < batch:
            break
        await _pause(started)
    return total


def _expired_keys(cutoff: Any, batch: int) -> Any:
    return (
        select(IdempotencyRow.id)
        .where(IdempotencyRow.created_at < cutoff)
        .order_by(IdempotencyRow.created_at)
        .limit(batch)
        .scalar_subquery()
    )


async def _delete_idempotency(tx: Tx, cutoff: datetime, batch: int) -> int:
    result = await tx.session.execute(
        delete(IdempotencyRow).where(IdempotencyRow.id.in_(_expired_keys(cutoff, batch))),
        execution_options={"synchronize_session": False},
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# SQLite: a batch runs in a thread on a connection of the sweep's own, from BEGIN IMMEDIATE
# to COMMIT in one go (as the hub's WAL checkpoints do). Through the hub's session it held
# the hub's writer lock across several hand-offs to the database thread, each waiting for a
# busy event loop; this way SQLite's write lock is held only for the batch's own work
# (about a millisecond), and a hub write that meets it waits in SQLite's busy handler.
_SQLITE_IDEMPOTENCY = (
    "DELETE FROM idempotency_keys WHERE id IN (SELECT id FROM idempotency_keys"
    " WHERE created_at < ? ORDER BY created_at LIMIT ?)"
)
_SQLITE_OLDEST = (
    "SELECT max(id) FROM (SELECT id, created_at FROM events ORDER BY id LIMIT ?) WHERE created_at < ?"
)
_SQLITE_MARK = (
    "UPDATE hub_state SET value = CAST(? AS TEXT), updated_at = ?"
    " WHERE name = ? AND CAST(value AS INTEGER) < ?"
)
_SQLITE_CONNECTIONS: weakref.WeakKeyDictionary[Database, sqlite3.Connection] = weakref.WeakKeyDictionary()


def _sqlite_time(when: datetime) -> str:
    """A UTC datetime as the hub's SQLite columns store it (warmline.storage.schema.UTCDateTime)."""
    return when.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


def _sweep_connection(db: Database) -> sqlite3.Connection | None:
    path = sqlite_path(db.url)
    if path is None:  # an in-memory database: the hub's own session is the only way in
        return None
    conn = _SQLITE_CONNECTIONS.get(db)
    if conn is None:
        conn = sqlite3.connect(path, timeout=10, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout=10000")
        _SQLITE_CONNECTIONS[db] = conn
    return conn


def _sqlite_batch(conn: sqlite3.Connection, work: Callable[[sqlite3.Connection], int]) -> int:
    conn.execute("BEGIN IMMEDIATE")
    try:
        done = work(conn)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return done


def _delete_keys(cutoff: datetime, batch: int) -> Callable[[sqlite3.Connection], int]:
    def work(conn: sqlite3.Connection) -> int:
        return conn.execute(_SQLITE_IDEMPOTENCY, (_sqlite_time(cutoff), batch)).rowcount

    return work


def _delete_events(cutoff: datetime, batch: int) -> Callable[[sqlite3.Connection], int]:
    def work(conn: sqlite3.Connection) -> int:
        upto = conn.execute(_SQLITE_OLDEST, (batch, _sqlite_time(cutoff))).fetchone()[0]
        if upto is None:
            return 0
        gone = conn.execute("DELETE FROM events WHERE id <= ?", (upto,)).rowcount
        conn.execute(_SQLITE_MARK, (upto, _sqlite_time(utcnow()), state.EVENTS_TRIMMED_THROUGH, upto))
        return gone

    return work


async def close_sqlite(db: Database) -> None:
    """Close the sweeps' own connection (the hub is stopping)."""
    conn = _SQLITE_CONNECTIONS.pop(db, None)
    if conn is not None:
        await asyncio.to_thread(conn.close)


async def sweep_events(
    db: Database, retention_days: float, batch: int, *, max_batches: int | None = None
) -> int:
    """Delete events older than ``retention_days``, oldest first, ``batch`` ids at a time.

    Each batch deletes a contiguous id range ``<= upto`` and raises ``hub_state``'s
    ``events_trimmed_through`` to ``upto`` in the same transaction, so a stream that read
    from the log and then sees the mark knows whether it may have missed something."""
    if retention_days <= 0:
        return 0
    cutoff = utcnow() - timedelta(days=retention_days)
    async with db.write() as tx:  # the mark's row exists before the first batch raises it
        await state.put_if_absent(tx.session, state.EVENTS_TRIMMED_THROUGH, "0")
    total = batches = 0
    while max_batches is None or batches < max_batches:
        batches += 1
        started = time.perf_counter()
        conn = _sweep_connection(db) if db.sqlite else None
        if conn is not None:
            gone = await asyncio.to_thread(_sqlite_batch, conn, _delete_events(cutoff, batch))
            total += gone
            if gone == 0:
                break
            await _pause(started)
            continue
        async with db.write() as tx:
            if not await _mine(tx, db, "events"):
                break
            oldest = select(EventRow.id, EventRow.created_at).order_by(EventRow.id).limit(batch).subquery()
            upto = await tx.session.scalar(select(func.max(oldest.c.id)).where(oldest.c.created_at < cutoff))
            if upto is None:
                break
            result = await tx.session.execute(
                delete(EventRow).where(EventRow.id <= upto), execution_options={"synchronize_session": False}
            )
            await state.raise_to(tx.session, state.EVENTS_TRIMMED_THROUGH, int(upto))
        gone = int(result.rowcount or 0)  # type: ignore[attr-defined]
        total += gone
        if gone < batch:
            break
        await _pause(started)
    return total


async def expire_buyer_tokens(db: Database, ttl_after_resolve_s: float | None, batch: int) -> int:
    """Buyer tokens of conversations resolved more than the TTL ago (none open) stop working."""
    if ttl_after_resolve_s is None:
        return 0
    cutoff = utcnow() - timedelta(seconds=ttl_after_resolve_s)
    resolved = select(HandoffRow.conversation_id).where(
        HandoffRow.status == "resolved", HandoffRow.resolved_at < cutoff
    )
    still_open = select(HandoffRow.conversation_id).where(HandoffRow.status.in_(("queued", "claimed")))
    return await _expire_tokens(
        db,
        and_(
            TokenRow.kind == "buyer",
            TokenRow.conversation_id.in_(resolved),
            TokenRow.conversation_id.not_in(still_open),
        ),
        batch,
    )


async def expire_bot_tokens(db: Database, ttl_days: float | None, batch: int) -> int:
    """Bot tokens issued more than ``ttl_days`` ago stop working (renew: tokens rotate)."""
    if ttl_days is None:
        return 0
    cutoff = utcnow() - timedelta(days=ttl_days)
    return await _expire_tokens(db, and_(TokenRow.kind == "bot", TokenRow.created_at < cutoff), batch)


async def _expire_tokens(db: Database, which: ColumnElement[bool], batch: int) -> int:
    """Set ``expires_at`` on the unexpired tokens ``which`` selects, ``batch`` at a time; each
    batch that changed something bumps the revocation counter (caches everywhere forget them)."""
    now = utcnow()
    total = 0
    while True:
        started = time.perf_counter()
        async with db.write() as tx:
            if not await _mine(tx, db, "tokens"):
                break
            ids = (
                select(TokenRow.id).where(which, TokenRow.expires_at.is_(None)).limit(batch).scalar_subquery()
            )
            result = await tx.session.execute(
                update(TokenRow).where(TokenRow.id.in_(ids)).values(expires_at=now),
                execution_options={"synchronize_session": False},
            )
            changed = int(result.rowcount or 0)  # type: ignore[attr-defined]
            if changed:
                await state.bump(tx.session, state.REVOCATIONS)
        total += changed
        if changed < batch:
            break
        await _pause(started)
    return total


async def trimmed_through(db: Database) -> int:
    """Every event with an id at or below this may have been removed by retention."""
    async with db.read_statement() as session:
        return await state.get_int(session, state.EVENTS_TRIMMED_THROUGH)


async def oldest_event_id(session: AsyncSession) -> int:
    """The oldest event the log holds (0 when empty)."""
    return int(await session.scalar(select(func.coalesce(func.min(EventRow.id), 0))) or 0)
