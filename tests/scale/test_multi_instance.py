"""Two hub processes on one PostgreSQL: events cross instances, claims have one winner.

The hubs are real `warmline hub` processes on ephemeral ports of 127.0.0.1, sharing
only a fresh PostgreSQL database.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import asyncpg
import httpx
import pytest

from .conftest import RawStream, event_ids, hubs, migrate_and_seed

pytestmark = pytest.mark.postgres

UNLIMITED = httpx.Limits(max_connections=None, max_keepalive_connections=None)


def client(base_url: str, token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30, limits=UNLIMITED
    )


def conversation(i: int) -> dict:
    return {"buyer": {"name": f"Buyer {i}", "company": f"Co {i}"}, "subject": f"s{i}", "messages": []}


def packet() -> dict:
    return {
        "reason": "purchase_intent",
        "summary": "Pricing for GX-220 needs live account data.",
        "product_family": "gearbox",
        "products": [{"sku": "GX-220", "name": "GX-220 helical gearbox", "family": "gearbox"}],
    }


async def test_events_written_through_one_instance_reach_streams_on_the_other(postgres_url: str) -> None:
    seeded = await migrate_and_seed(postgres_url, agents=1)
    start = (await event_ids(postgres_url))[-1]
    token = seeded.agents[0][1]
    # Polling every 60 s: within this test only a NOTIFY from the other process can wake B.
    with hubs(postgres_url, 2, sse_poll_seconds="60") as (a, b):
        assert a.url and b.url
        async with (
            RawStream(b.url, token, last_event_id=start) as on_b,
            RawStream(a.url, token, last_event_id=start) as on_a,
            client(a.url, seeded.bot) as bot_a,
            client(b.url, seeded.bot) as bot_b,
        ):
            # 1. writes through A only: B's streams learn of them from A's NOTIFY
            cids = []
            for i in range(8):
                r = await bot_a.post("/v1/conversations", json=conversation(i))
                assert r.status_code == 201, r.text
                cids.append(r.json()["conversation"]["id"])
            await on_b.wait_for_id((await event_ids(postgres_url))[-1], timeout=15)

            # 2. many concurrent writers on both instances: ids are taken and committed by
            #    several processes at once, the case where a log reader could skip an id
            async def writer(i: int) -> list[str]:
                via = bot_b if i % 3 == 0 else bot_a
                bodies = []
                for n in range(25):
                    body = f"w{i}-{n}"
                    r = await via.post(f"/v1/conversations/{cids[i]}/messages", json={"body": body})
                    assert r.status_code == 201, r.text
                    bodies.append(body)
                return bodies

            written = [b for part in await asyncio.gather(*[writer(i) for i in range(8)]) for b in part]
            logged = await event_ids(postgres_url, start)
            await on_b.wait_for_id(logged[-1], timeout=15)
            await on_a.wait_for_id(logged[-1], timeout=15)

    for stream in (on_a, on_b):
        ids = [e["id"] for e in stream.events]
        assert ids == logged  # every event of the log, in order, none twice, none skipped
        bodies = [e["data"]["message"]["body"] for e in stream.events if e["type"] == "message.created"]
        assert sorted(bodies) == sorted(written) and len(set(bodies)) == len(bodies)


async def test_claim_race_across_instances_has_exactly_one_winner(postgres_url: str) -> None:
    claimers = 40
    seeded = await migrate_and_seed(postgres_url, agents=claimers)
    # one specialist may win every round: no capacity limit here (issue 12; tests/hub/test_team.py)
    with hubs(postgres_url, 2, max_active_per_agent="0") as (a, b):
        assert a.url and b.url
        clients = {
            url: httpx.AsyncClient(base_url=url, timeout=30, limits=UNLIMITED) for url in (a.url, b.url)
        }
        try:
            bot = clients[a.url]
            for round_ in range(6):
                r = await bot.post(
                    "/v1/handoffs",
                    json={"conversation": conversation(round_), "packet": packet()},
                    headers={"Authorization": f"Bearer {seeded.bot}"},
                )
                assert r.status_code == 201, r.text
                hid = r.json()["handoff"]["id"]
                # half the specialists are behind A, half behind B, all at once
                answers = await asyncio.gather(
                    *[
                        clients[(a.url, b.url)[i % 2]].post(
                            f"/v1/handoffs/{hid}/claim", headers={"Authorization": f"Bearer {tok}"}
                        )
                        for i, (_aid, tok) in enumerate(seeded.agents)
                    ]
                )
                counts = Counter(r.status_code for r in answers)
                assert counts == {200: 1, 409: claimers - 1}, (counts, [r.text for r in answers[:3]])
                winner = seeded.agents[[r.status_code for r in answers].index(200)][0]
                assert (
                    answers[[r.status_code for r in answers].index(200)].json()["claimed_by"]["id"] == winner
                )
                for r in answers:
                    if r.status_code == 409:
                        detail = r.json()["detail"]
                        assert detail["code"] == "already_claimed" and detail["owner"]["id"] == winner
                # both instances agree, and the log holds one claim and one "joined" line
                for url in (a.url, b.url):
                    detail = (
                        await clients[url].get(
                            f"/v1/handoffs/{hid}", headers={"Authorization": f"Bearer {seeded.bot}"}
                        )
                    ).json()
                    assert detail["claimed_by"]["id"] == winner
                    joined = [
                        m
                        for m in detail["conversation"]["messages"]
                        if m["body"].endswith("joined the conversation")
                    ]
                    assert len(joined) == 1
                conn = await asyncpg.connect(postgres_url)
                try:
                    claimed = await conn.fetchval(
                        "SELECT count(*) FROM events WHERE type = 'handoff.claimed' AND handoff_id = $1", hid
                    )
                finally:
                    await conn.close()
                assert claimed == 1
        finally:
            for c in clients.values():
                await c.aclose()


async def test_a_missed_notification_loses_nothing(postgres_url: str) -> None:
    """An event committed without any NOTIFY (as if the notification were lost) still
    reaches the stream: the feed re-reads the log by polling; the notification is only a hint."""
    seeded = await migrate_and_seed(postgres_url, agents=1)
    start = (await event_ids(postgres_url))[-1]
    with hubs(postgres_url, 1, sse_poll_seconds="0.5") as (hub,):
        assert hub.url
        async with RawStream(hub.url, seeded.agents[0][1], last_event_id=start) as stream:
            conn = await asyncpg.connect(postgres_url)
            try:
                async with conn.transaction():
                    await conn.execute("SELECT pg_advisory_xact_lock($1)", 0x57A7_11E5)
                    new_id = await conn.fetchval(
                        "INSERT INTO events (type, created_at, conversation_id, handoff_id, data) "
                        "VALUES ('agent.created', now(), NULL, NULL, $1::json) RETURNING id",
                        '{"agent": {"id": "agt_x", "name": "quiet", "display_name": "", "skills": [],'
                        ' "all_skills": true, "created_at": "2026-01-01T00:00:00Z"}}',
                    )
            finally:
                await conn.close()
            await stream.wait_for_id(new_id, timeout=10)
    assert [e["id"] for e in stream.events] == [new_id]
