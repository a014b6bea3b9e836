"""Faults under load, on loopback, bounded in time: a hub killed with -9, PostgreSQL restarted.

Buyers post with an Idempotency-Key and retry the same request on connection errors
and 503s; consoles follow the event log with the console's own `EventStream` (Qt-free),
which reconnects with Last-Event-ID. Afterwards every acknowledged message is in the
log exactly once and every console saw every event exactly once, in order.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field

import asyncpg
import httpx
import pytest

from warmline.console.client import EventStream, HubClient
from warmline.domain.models import Event

from .conftest import LoadBalancer, PrivateCluster, event_ids, hubs, migrate_and_seed

pytestmark = pytest.mark.postgres

BUYERS = 8
CONSOLES = 6


@dataclass
class Load:
    acked: list[str] = field(default_factory=list)
    outcomes: Counter = field(default_factory=Counter)


async def open_conversations(base_url: str, bot: str, count: int) -> list[tuple[str, str]]:
    """``count`` conversations as the bot; returns (conversation id, buyer token) pairs."""
    out = []
    async with httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"Bearer {bot}"}) as c:
        for i in range(count):
            body = {"buyer": {"name": f"B{i}", "company": f"C{i}"}, "subject": "load", "messages": []}
            r = await c.post("/v1/conversations", json=body, headers={"Idempotency-Key": f"conv-{i}"})
            assert r.status_code == 201, r.text
            out.append((r.json()["conversation"]["id"], r.json()["buyer_token"]))
    return out


async def buyer(base_url: str, cid: str, token: str, name: str, stop: asyncio.Event, load: Load) -> None:
    """Post until told to stop; retry the same request (same key) until it is acknowledged."""
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=10) as c:
        n = 0
        while not stop.is_set():
            body = key = f"{name}-{n}"
            while True:
                try:
                    r = await c.post(
                        f"/v1/conversations/{cid}/messages",
                        json={"body": body},
                        headers={"Idempotency-Key": key},
                    )
                except httpx.TimeoutException as exc:  # a hang: the hub must answer, even if with 503
                    load.outcomes[type(exc).__name__] += 1
                    raise
                except httpx.TransportError as exc:  # the instance died mid-request: try again
                    load.outcomes[type(exc).__name__] += 1
                    await asyncio.sleep(0.05)
                    continue
                load.outcomes[r.status_code] += 1
                if r.status_code == 201:
                    assert r.json()["body"] == body
                    load.acked.append(body)
                    break
                assert r.status_code == 503, (r.status_code, r.text)
                assert r.json()["detail"]["code"] == "database_unavailable"
                await asyncio.sleep(0.05)
            n += 1
            await asyncio.sleep(0.02)


class Console:
    """One console's event stream (the console's own client classes), recording what it applied."""

    def __init__(self, base_url: str, token: str, last_event_id: int) -> None:
        self.client = HubClient(base_url, token)
        self.events: list[Event] = []
        self.stream = EventStream(
            self.client, last_event_id=last_event_id, on_event=self.events.append, on_state=lambda *_: None
        )
        self.task = asyncio.create_task(self.stream.run())

    async def caught_up(self, last_id: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.stream.last_event_id < last_id:
            assert not self.task.done(), self.task
            assert time.monotonic() < deadline, (
                f"console at {self.stream.last_event_id}, log at {last_id} after {timeout}s"
            )
            await asyncio.sleep(0.02)

    async def close(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        await self.client.aclose()

    def bodies(self) -> list[str]:
        return [e.data["message"]["body"] for e in self.events if e.type.value == "message.created"]


async def message_bodies(database_url: str) -> Counter:
    conn = await asyncpg.connect(database_url)
    try:
        return Counter(r["body"] for r in await conn.fetch("SELECT body FROM messages"))
    finally:
        await conn.close()


async def check_exactly_once(database_url: str, start: int, load: Load, consoles: list[Console]) -> None:
    stored = await message_bodies(database_url)
    assert load.acked, "no message was acknowledged"
    assert {b: stored[b] for b in load.acked} == dict.fromkeys(load.acked, 1)  # acked: in the log once
    assert max(stored.values()) == 1  # and nothing at all was written twice
    logged = await event_ids(database_url, start)
    for console in consoles:
        await console.caught_up(logged[-1], timeout=20)
        assert [e.id for e in console.events] == logged  # every event, in order, once
        bodies = console.bodies()
        assert len(bodies) == len(set(bodies)) and set(load.acked) <= set(bodies)


async def test_kill_9_one_of_two_instances_under_load(postgres_url: str) -> None:
    seeded = await migrate_and_seed(postgres_url, agents=1)
    agent_token = seeded.agents[0][1]
    with hubs(postgres_url, 2) as (a, b):
        async with LoadBalancer([("127.0.0.1", a.port), ("127.0.0.1", b.port)]) as lb:
            conversations = await open_conversations(lb.url, seeded.bot, BUYERS)
            start = (await event_ids(postgres_url))[-1]
            consoles = [Console(lb.url, agent_token, start) for _ in range(CONSOLES)]
            load, stop = Load(), asyncio.Event()
            buyers = [
                asyncio.create_task(buyer(lb.url, cid, tok, f"m{i}", stop, load))
                for i, (cid, tok) in enumerate(conversations)
            ]
            try:
                deadline = time.monotonic() + 30
                while len(load.acked) < 100:  # load is flowing through both instances
                    assert not any(t.done() for t in buyers), [t for t in buyers if t.done()]
                    assert time.monotonic() < deadline, load.outcomes
                    await asyncio.sleep(0.02)
                a.kill()
                acked_at_kill = len(load.acked)
                deadline = time.monotonic() + 30
                while len(load.acked) < acked_at_kill + 150:  # and keeps flowing through B alone
                    assert not any(t.done() for t in buyers), [t for t in buyers if t.done()]
                    assert time.monotonic() < deadline, load.outcomes
                    await asyncio.sleep(0.02)
                stop.set()
                await asyncio.gather(*buyers)
                await check_exactly_once(postgres_url, start, load, consoles)
                # the kill really cut consoles and requests off, and they came back through B
                assert sum(c.stream.connects > 1 for c in consoles) >= 1, [
                    c.stream.connects for c in consoles
                ]
                assert b.alive and not a.alive
            finally:
                stop.set()
                await asyncio.gather(*buyers, return_exceptions=True)
                for c in consoles:
                    await c.close()


async def test_postgres_restart_under_load(private_postgres: PrivateCluster) -> None:
    url = private_postgres.url
    seeded = await migrate_and_seed(url, agents=1)
    agent_token = seeded.agents[0][1]
    # B polls the log only every 60 s: after the restart its streams can only catch up with A's
    # writes if its LISTEN connection came back (and woke the feed).
    with hubs(url, 2, sse_poll_seconds="60") as (a, b):
        assert a.url and b.url
        pids = (a.proc.pid, b.proc.pid)
        conversations = await open_conversations(a.url, seeded.bot, 4)
        start = (await event_ids(url))[-1]
        consoles = [Console(hub.url, agent_token, start) for hub in (a, b, b) if hub.url]
        load, stop = Load(), asyncio.Event()
        buyers = [
            asyncio.create_task(buyer(a.url, cid, tok, f"m{i}", stop, load))
            for i, (cid, tok) in enumerate(conversations)
        ]
        try:
            deadline = time.monotonic() + 30
            while len(load.acked) < 40:
                assert not any(t.done() for t in buyers), [t for t in buyers if t.done()]
                assert time.monotonic() < deadline, load.outcomes
                await asyncio.sleep(0.02)
            await asyncio.to_thread(private_postgres.stop)
            refused_before = load.outcomes[503]
            deadline = time.monotonic() + 15
            while load.outcomes[503] < refused_before + 20:  # the hub answers 503 while it is down
                assert not any(t.done() for t in buyers), [t for t in buyers if t.done()]
                assert time.monotonic() < deadline, load.outcomes
                await asyncio.sleep(0.02)
            await asyncio.to_thread(private_postgres.start)
            acked_after = len(load.acked)
            deadline = time.monotonic() + 20
            while len(load.acked) < acked_after + 60:  # and recovers by itself
                assert not any(t.done() for t in buyers), [t for t in buyers if t.done()]
                assert time.monotonic() < deadline, load.outcomes
                await asyncio.sleep(0.02)
            stop.set()
            await asyncio.gather(*buyers)
            assert not {k for k in load.outcomes if isinstance(k, str) and "Timeout" in k}, load.outcomes
            await check_exactly_once(url, start, load, consoles)
            assert (a.proc.pid, b.proc.pid) == pids and a.alive and b.alive  # never restarted
        finally:
            stop.set()
            await asyncio.gather(*buyers, return_exceptions=True)
            for c in consoles:
                await c.close()
