"""Team work on two hub processes sharing one PostgreSQL (issue 12): the reply timeout
requeues each handoff exactly once whichever instance sweeps first, and a transfer racing a
release through the other instance has one winner."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
import pytest
from sqlalchemy import select

from warmline.hub.store.db import Database
from warmline.hub.store.tables import EventRow, HandoffRow, MessageRow

from .conftest import hubs, migrate_and_seed

pytestmark = pytest.mark.postgres

LIMITS = httpx.Limits(max_connections=None, max_keepalive_connections=None)


def client(base_url: str, token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30, limits=LIMITS
    )


def handoff_body(i: int) -> dict:
    return {
        "conversation": {"buyer": {"name": f"B{i}", "company": f"Co {i}"}, "messages": []},
        "packet": {"reason": "purchase_intent", "summary": f"case {i}", "product_family": "gearbox"},
    }


async def _rows(url: str) -> tuple[dict[str, str], Counter[str], Counter[str]]:
    """handoff id -> status; requeued events per handoff; "Taken back" notes per conversation."""
    db = Database(url)
    try:
        async with db.read() as s:
            status = dict((await s.execute(select(HandoffRow.id, HandoffRow.status))).all())
            requeued = Counter(
                (
                    await s.scalars(select(EventRow.handoff_id).where(EventRow.type == "handoff.requeued"))
                ).all()
            )
            notes = Counter(
                (
                    await s.scalars(
                        select(MessageRow.conversation_id).where(
                            MessageRow.internal.is_(True), MessageRow.body.like("Taken back%")
                        )
                    )
                ).all()
            )
            return status, requeued, notes
    finally:
        await db.close()


async def test_two_instances_never_requeue_twice(postgres_url: str) -> None:
    seeded = await migrate_and_seed(postgres_url, agents=2)
    token = seeded.agents[0][1]
    settings = {"reply_timeout_s": "1", "assignment_sweep_s": "0.02", "max_active_per_agent": "0"}
    with hubs(postgres_url, 2, **settings) as (a, b):
        assert a.url and b.url
        async with (
            client(a.url, seeded.bot) as bot,
            client(a.url, token) as on_a,
            client(b.url, token) as on_b,
        ):
            ids = []
            for i in range(30):
                r = await bot.post("/v1/handoffs", json=handoff_body(i))
                assert r.status_code == 201, r.text
                ids.append(r.json()["handoff"]["id"])
            for round_ in (1, 2):  # twice: a requeued handoff's second claim times out again, once
                claims = await asyncio.gather(
                    *[(on_a if i % 2 else on_b).post(f"/v1/handoffs/{h}/claim") for i, h in enumerate(ids)]
                )
                assert all(r.status_code == 200 for r in claims), [
                    r.text for r in claims if r.status_code != 200
                ]
                async with asyncio.timeout(30):
                    while True:
                        status, requeued, notes = await _rows(postgres_url)
                        if all(status[h] == "queued" for h in ids) and all(
                            requeued[h] == round_ for h in ids
                        ):
                            break
                        await asyncio.sleep(0.1)
                await asyncio.sleep(0.3)  # many more sweeps by both instances
                status, requeued, notes = await _rows(postgres_url)
                assert {requeued[h] for h in ids} == {round_}
                assert set(notes.values()) == {round_} and len(notes) == len(ids)
    assert a.log == [] or not any("Traceback" in line for line in a.log + b.log), (a.log + b.log)[-20:]


async def test_transfer_racing_a_release_on_the_other_instance_has_one_winner(postgres_url: str) -> None:
    seeded = await migrate_and_seed(postgres_url, agents=2)
    (ana_id, ana), (ben_id, _ben) = seeded.agents
    with hubs(postgres_url, 2, reply_timeout_s="0") as (a, b):
        assert a.url and b.url
        async with client(a.url, seeded.bot) as bot, client(a.url, ana) as on_a, client(b.url, ana) as on_b:
            for i in range(10):
                r = await bot.post("/v1/handoffs", json=handoff_body(i))
                hid = r.json()["handoff"]["id"]
                assert (await on_a.post(f"/v1/handoffs/{hid}/claim")).status_code == 200
                moved, released = await asyncio.gather(
                    on_a.post(f"/v1/handoffs/{hid}/transfer", json={"to_agent": ben_id}),
                    on_b.post(f"/v1/handoffs/{hid}/release"),
                )
                assert sorted([moved.status_code, released.status_code]) == [200, 409], (
                    moved.text,
                    released.text,
                )
                final = (await on_a.get(f"/v1/handoffs/{hid}")).json()
                if moved.status_code == 200:
                    assert final["status"] == "claimed" and final["claimed_by"]["id"] == ben_id
                else:
                    assert final["status"] == "queued" and final["claimed_by"] is None
    assert ana_id != ben_id
