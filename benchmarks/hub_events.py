"""Event delivery and claim races through the real hub, against the bare relay baseline.

For each server: S subscribers hold SSE streams; W writers post M messages in total;
we time each post (request latency) and each delivery (post sent -> frame received by
every subscriber). Then, on the hub only: C agents race to claim each of H handoffs.
The bare relay (benchmarks/bare_relay.py: no database, no auth) runs first, on the same
loop, client and machine, as the floor.

    python benchmarks/hub_events.py [--subscribers 20] [--messages 300] [--writers 4]
                                    [--postgres postgresql://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import uvicorn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bare_relay import BareRelay

from warmline.hub.embedded import EmbeddedHub
from warmline.hub.settings import HubSettings

UNLIMITED = httpx.Limits(max_connections=None, max_keepalive_connections=None)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def start_bare() -> tuple[str, Callable[[], None]]:
    config = uvicorn.Config(BareRelay(), host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]

    def stop() -> None:
        server.should_exit = True
        server.force_exit = True  # the relay's streams never end on their own
        thread.join(10)

    return f"http://127.0.0.1:{port}", stop


async def deliveries(
    url: str,
    *,
    headers: dict[str, str],
    post: Callable[[httpx.AsyncClient, str], Any],
    body_of: Callable[[dict[str, Any]], str | None],
    events_path: str,
    subscribers: int,
    messages: int,
    writers: int,
) -> dict[str, float]:
    received: dict[str, list[float]] = {}
    all_in = asyncio.Event()
    opened = 0

    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60, limits=UNLIMITED) as client:

        async def subscribe() -> None:
            nonlocal opened
            async with client.stream("GET", events_path) as r:
                opened += 1
                async for line in r.aiter_lines():
                    if not line.startswith("data:"):
                        continue
                    tag = body_of(json.loads(line[5:]))
                    if tag is None or tag not in received:
                        continue
                    received[tag].append(time.perf_counter())
                    if all(len(v) == subscribers for v in received.values()) and len(received) == messages:
                        all_in.set()

        tasks = [asyncio.create_task(subscribe()) for _ in range(subscribers)]
        while opened < subscribers:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)
        sent: dict[str, float] = {}
        request_ms: list[float] = []
        tags = [f"m-{uuid.uuid4().hex[:8]}-{i}" for i in range(messages)]
        queue = list(tags)

        async def writer() -> None:
            while queue:
                tag = queue.pop()
                received[tag] = []
                sent[tag] = time.perf_counter()
                r = await post(client, tag)
                request_ms.append((time.perf_counter() - sent[tag]) * 1000)
                assert r.status_code in (200, 201), r.text

        t0 = time.perf_counter()
        await asyncio.gather(*[writer() for _ in range(writers)])
        await asyncio.wait_for(all_in.wait(), 120)
        elapsed = time.perf_counter() - t0
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    delivery_ms = [(max(received[t]) - sent[t]) * 1000 for t in tags]
    return {
        "posts/s": messages / elapsed,
        "post p50 ms": statistics.median(request_ms),
        "post p95 ms": pct(request_ms, 95),
        "deliver p50 ms": statistics.median(delivery_ms),
        "deliver p95 ms": pct(delivery_ms, 95),
        "deliver max ms": max(delivery_ms),
    }


async def bench_bare(args: argparse.Namespace) -> dict[str, float]:
    url, stop = start_bare()
    try:

        async def post_bare(client: httpx.AsyncClient, tag: str) -> httpx.Response:
            return await client.post("/messages", json={"body": tag})

        return await deliveries(
            url,
            headers={},
            post=post_bare,
            body_of=lambda ev: ev.get("message", {}).get("body"),
            events_path="/events",
            subscribers=args.subscribers,
            messages=args.messages,
            writers=args.writers,
        )
    finally:
        stop()


async def bench_hub(hub: EmbeddedHub, args: argparse.Namespace) -> dict[str, float]:
    _agent, agent_token = hub.create_agent(f"watcher-{uuid.uuid4().hex[:6]}", ["all"])
    bot = hub.create_bot("bench")
    async with httpx.AsyncClient(base_url=hub.base_url, headers={"Authorization": f"Bearer {bot}"}) as c:
        r = await c.post("/v1/conversations", json={"subject": "bench"})
        cid = r.json()["conversation"]["id"]

    async def post_v1(client: httpx.AsyncClient, tag: str) -> httpx.Response:
        return await client.post(
            f"/v1/conversations/{cid}/messages",
            json={"body": tag},
            headers={"Authorization": f"Bearer {bot}"},
        )

    stats = await deliveries(
        hub.base_url or "",
        headers={"Authorization": f"Bearer {agent_token}"},
        post=post_v1,
        body_of=lambda ev: ev.get("data", {}).get("message", {}).get("body"),
        events_path="/v1/events",
        subscribers=args.subscribers,
        messages=args.messages,
        writers=args.writers,
    )
    stats.update(await bench_claims(hub, bot, args))
    if args.queue:
        stats.update(await bench_queue(hub, agent_token, args.queue))
    return stats


async def bench_queue(hub: EmbeddedHub, agent_token: str, size: int) -> dict[str, float]:
    """Time the console's start-up read: the whole open queue in one page."""
    from warmline.domain.models import NewConversation, NewHandoff
    from warmline.domain.packet import HandoffPacket
    from warmline.hub import service

    families = ["gearbox", "pump", "valve", "sensor", "bearing", "connector"]

    async def seed(tx, start: int) -> None:
        for i in range(start, min(start + 500, size)):
            family = families[i % len(families)]
            packet = HandoffPacket(
                reason="purchase_intent" if i % 3 == 0 else "complexity",
                summary=f"Handoff {i} about a {family}",
                product_family=family,
            )
            await service.create_handoff(
                tx,
                spec=NewHandoff(conversation=NewConversation(subject=f"q{i}"), packet=packet, announce=False),
            )

    t0 = time.perf_counter()
    for start in range(0, size, 500):
        hub.write(lambda tx, start=start: seed(tx, start), timeout=600)
    seeded = time.perf_counter() - t0
    out = {f"seed {size} handoffs s": seeded}
    async with httpx.AsyncClient(
        base_url=hub.base_url or "", headers={"Authorization": f"Bearer {agent_token}"}, timeout=120
    ) as c:
        for label, params in (("all", {}), ("mine", {"mine": "true"}), ("q", {"q": "pump"})):
            t0 = time.perf_counter()
            r = await c.get("/v1/handoffs", params={"limit": 20000, **params})
            assert r.status_code == 200, r.text
            out[f"list {label} ({len(r.json()['items'])}) ms"] = (time.perf_counter() - t0) * 1000
    return out


async def bench_claims(hub: EmbeddedHub, bot: str, args: argparse.Namespace) -> dict[str, float]:
    tokens = [hub.create_agent(f"c{i}-{uuid.uuid4().hex[:6]}", ["all"])[1] for i in range(args.claimers)]
    packet = {"reason": "purchase_intent", "summary": "bench", "product_family": "gearbox"}
    races_ms = []
    async with httpx.AsyncClient(base_url=hub.base_url or "", timeout=60, limits=UNLIMITED) as c:
        for _ in range(args.races):
            r = await c.post(
                "/v1/handoffs",
                json={"conversation": {"subject": "race"}, "packet": packet},
                headers={"Authorization": f"Bearer {bot}"},
            )
            hid = r.json()["handoff"]["id"]
            t0 = time.perf_counter()
            answers = await asyncio.gather(
                *[
                    c.post(f"/v1/handoffs/{hid}/claim", headers={"Authorization": f"Bearer {t}"})
                    for t in tokens
                ]
            )
            races_ms.append((time.perf_counter() - t0) * 1000)
            winners = sum(a.status_code == 200 for a in answers)
            assert winners == 1, f"{winners} winners"
    return {
        f"claim race x{args.claimers} p50 ms": statistics.median(races_ms),
        "per claim ms": statistics.median(races_ms) / args.claimers,
    }


def show(name: str, stats: dict[str, float]) -> None:
    print(f"\n{name}")
    for k, v in stats.items():
        print(f"  {k:>24}: {v:9.1f}")


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--subscribers", type=int, default=20)
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--claimers", type=int, default=50)
    parser.add_argument("--races", type=int, default=10)
    parser.add_argument(
        "--queue", type=int, default=20000, help="open handoffs for the list timing (0: skip)"
    )
    parser.add_argument("--postgres", default=None, help="also run on this (empty-able) PostgreSQL database")
    args = parser.parse_args()
    print(
        f"{args.subscribers} subscribers, {args.messages} messages from {args.writers} writers; "
        f"claims: {args.claimers} agents x {args.races} handoffs"
    )
    show("bare relay (no DB, no auth): baseline", await bench_bare(args))
    with (
        tempfile.TemporaryDirectory() as tmp,
        EmbeddedHub(HubSettings(database_url=f"sqlite:///{tmp}/bench.db", port=0)) as hub,
    ):
        show("hub on SQLite", await bench_hub(hub, args))
    if args.postgres:
        with EmbeddedHub(HubSettings(database_url=args.postgres, port=0)) as hub:
            show("hub on PostgreSQL", await bench_hub(hub, args))


if __name__ == "__main__":
    asyncio.run(main())
