"""Event ids become visible in id order on PostgreSQL, or a log reader could skip one.

Ids come from a sequence, which hands them out at INSERT time; transactions commit in
any order. Without care, a writer holding id N (uncommitted) and a faster writer with
N+1 (committed) let a reader at cursor N-1 see N+1, move its cursor there, and never see
N. The hub's write path takes a transaction-scoped advisory lock before its events get
ids and holds it to commit, so event transactions are serialised at their very end.
"""

from __future__ import annotations

import asyncio
import time

import asyncpg
import pytest
from sqlalchemy import func, select

from warmline.domain.models import EventType
from warmline.hub.store.db import Database, Tx
from warmline.hub.store.tables import EventRow
from warmline.storage.migrate import upgrade

pytestmark = pytest.mark.postgres

INSERT = (
    "INSERT INTO events (type, created_at, conversation_id, handoff_id, data) "
    "VALUES ('agent.created', now(), NULL, NULL, '{}'::json) RETURNING id"
)


async def _waiting_for_advisory_lock(url: str, timeout: float = 10.0) -> None:
    conn = await asyncpg.connect(url)
    try:
        deadline = time.monotonic() + timeout
        while not await conn.fetchval(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        ):
            assert time.monotonic() < deadline, "the second writer never waited on the event lock"
            await asyncio.sleep(0.01)
    finally:
        await conn.close()


async def _visible_after(url: str, after: int) -> list[int]:
    conn = await asyncpg.connect(url)
    try:
        return [r["id"] for r in await conn.fetch("SELECT id FROM events WHERE id > $1 ORDER BY id", after)]
    finally:
        await conn.close()


async def test_the_hazard_is_real_without_the_lock(postgres_url: str) -> None:
    """Control: plain inserts on two connections make id N+1 visible while N is not."""
    await upgrade(postgres_url)
    slow, fast = await asyncpg.connect(postgres_url), await asyncpg.connect(postgres_url)
    try:
        before = await _visible_after(postgres_url, 0)
        t1 = slow.transaction()
        await t1.start()
        n = await slow.fetchval(INSERT)
        async with fast.transaction():
            n_plus_1 = await fast.fetchval(INSERT)
        assert n_plus_1 > n
        seen = await _visible_after(postgres_url, before[-1] if before else 0)
        assert seen == [n_plus_1]  # a reader here would advance past n, which commits next
        await t1.commit()
    finally:
        await slow.close()
        await fast.close()


async def test_an_uncommitted_event_holds_back_every_later_one(postgres_url: str) -> None:
    await upgrade(postgres_url)
    db = Database(postgres_url)
    try:
        async with db.read() as session:
            before = int(await session.scalar(select(func.coalesce(func.max(EventRow.id), 0))) or 0)
        # writer 1: its event has its id, but its transaction has not committed
        async with db.sessions() as s1:
            await s1.begin()
            tx1 = Tx(s1)
            tx1.emit(EventType.AGENT_CREATED, {"agent": {"n": 1}})
            await db._append_events(tx1)
            first = int(await s1.scalar(select(func.max(EventRow.id))) or 0)

            # writer 2: an ordinary write through the hub's write path
            async def second() -> int:
                async with db.write() as tx:
                    tx.emit(EventType.AGENT_CREATED, {"agent": {"n": 2}})
                async with db.read() as session:
                    return int(await session.scalar(select(func.max(EventRow.id))) or 0)

            task = asyncio.create_task(second())
            await _waiting_for_advisory_lock(postgres_url)
            assert not task.done()
            assert await _visible_after(postgres_url, before) == []  # nothing newer leaks out
            await s1.commit()
        last = await asyncio.wait_for(task, 10)
        assert last > first
        assert await _visible_after(postgres_url, before) == [first, last]
    finally:
        await db.close()


async def test_event_data_survives_the_append_script_verbatim(postgres_url: str) -> None:
    """The PostgreSQL append is one script with literal values: nothing in the data may break out."""
    await upgrade(postgres_url)
    db = Database(postgres_url)
    nasty = ["$wl$'); DROP TABLE events; --", 'it\'s \\ "quoted" $wlx$ $$', "\u0000 nul", "ünï ☃ \n\t"]
    try:
        async with db.write() as tx:
            for i, text_ in enumerate(nasty):
                tx.emit(
                    EventType.AGENT_CREATED, {"agent": {"name": text_, "n": i}}, conversation_id=f"c'{i}$wl"
                )
        async with db.read() as session:
            rows = (await session.scalars(select(EventRow).order_by(EventRow.id))).all()
        assert [r.data["agent"]["name"] for r in rows] == nasty
        assert [r.conversation_id for r in rows] == [f"c'{i}$wl" for i in range(len(nasty))]
        assert [r.data["agent"]["n"] for r in rows] == list(range(len(nasty)))  # in order
        assert [r.id for r in rows] == sorted(r.id for r in rows)
    finally:
        await db.close()
