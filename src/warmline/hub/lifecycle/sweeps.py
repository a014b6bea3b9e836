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
from datetime import timedelta

from sqlalchemy import and_, delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from warmline.hub.lifecycle import state
from warmline.hub.store.db import Database, Tx, utcnow
from warmline.hub.store.tables import EventRow, HandoffRow, IdempotencyRow, TokenRow

# pg_try_advisory_xact_lock keys, one per sweep (the event-order lock uses its own key)
_LOCKS = {"idempotency": 0x5717_0001, "events": 0x5717_0002, "tokens": 0x5717_0003}
PAUSE_SECONDS = 0.005  # between batches: the loop and the writer are free for requests


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
        async with db.write() as tx:
            if not await _mine(tx, db, "idempotency"):
                break
            ids = (
                select(IdempotencyRow.id)
                .where(IdempotencyRow.created_at < cutoff)
                .order_by(IdempotencyRow.created_at)
                .limit(batch)
                .scalar_subquery()
            )
            result = await tx.session.execute(
                delete(IdempotencyRow).where(IdempotencyRow.id.in_(ids)),
                execution_options={"synchronize_session": False},
            )
        gone = int(result.rowcount or 0)  # type: ignore[attr-defined]
        total += gone
        if gone < batch:
            break
        await asyncio.sleep(PAUSE_SECONDS)
    return total


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
    total = batches = 0
    while max_batches is None or batches < max_batches:
        batches += 1
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
        await asyncio.sleep(PAUSE_SECONDS)
    return total


async def expire_buyer_tokens(db: Database, ttl_after_resolve_s: float | None, batch: int) -> int:
    """Buyer tokens of conversations resolved more than the TTL ago (none open) stop working."""
    if ttl_after_resolve_s is None:
        return 0
    now = utcnow()
    cutoff = now - timedelta(seconds=ttl_after_resolve_s)
    resolved = select(HandoffRow.conversation_id).where(
        HandoffRow.status == "resolved", HandoffRow.resolved_at < cutoff
    )
    still_open = select(HandoffRow.conversation_id).where(HandoffRow.status.in_(("queued", "claimed")))
    total = 0
    while True:
        async with db.write() as tx:
            if not await _mine(tx, db, "tokens"):
                break
            ids = (
                select(TokenRow.id)
                .where(
                    and_(
                        TokenRow.kind == "buyer",
                        TokenRow.expires_at.is_(None),
                        TokenRow.conversation_id.in_(resolved),
                        TokenRow.conversation_id.not_in(still_open),
                    )
                )
                .limit(batch)
                .scalar_subquery()
            )
            result = await tx.session.execute(
                update(TokenRow).where(TokenRow.id.in_(ids)).values(expires_at=now),
                execution_options={"synchronize_session": False},
            )
            changed = int(result.rowcount or 0)  # type: ignore[attr-defined]
            if changed:
                await state.bump(tx.session, state.REVOCATIONS)  # caches everywhere forget them
        total += changed
        if changed < batch:
            break
        await asyncio.sleep(PAUSE_SECONDS)
    return total


async def expire_bot_tokens(db: Database, ttl_days: float | None, batch: int) -> int:
    """Bot tokens issued more than ``ttl_days`` ago stop working (renew: tokens rotate)."""
    if ttl_days is None:
        return 0
    now = utcnow()
    cutoff = now - timedelta(days=ttl_days)
    total = 0
    while True:
        async with db.write() as tx:
            if not await _mine(tx, db, "tokens"):
                break
            ids = (
                select(TokenRow.id)
                .where(TokenRow.kind == "bot", TokenRow.expires_at.is_(None), TokenRow.created_at < cutoff)
                .limit(batch)
                .scalar_subquery()
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
        await asyncio.sleep(PAUSE_SECONDS)
    return total


async def trimmed_through(db: Database) -> int:
    """Every event with an id at or below this may have been removed by retention."""
    async with db.read_statement() as session:
        return await state.get_int(session, state.EVENTS_TRIMMED_THROUGH)


async def oldest_event_id(session: AsyncSession) -> int:
    """The oldest event the log holds (0 when empty)."""
    return int(await session.scalar(select(func.coalesce(func.min(EventRow.id), 0))) or 0)
