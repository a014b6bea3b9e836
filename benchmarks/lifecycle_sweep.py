"""The lifecycle sweeps' cost: 10^6 expired rows (--rows expired idempotency keys plus as
many events past retention; 500,000 each by default) swept by the hub itself while buyers
keep posting; the hub's request latency during the sweep beside the same load with no
sweep (the baseline, same run, same process).

The hub is an EmbeddedHub (its own thread and loop) in this process; the load is an
open-loop stream of buyer message POSTs at --rate per second, measured for --idle-seconds
before the sweep, during it, and again after it for as long as the sweep took (the
baseline is both no-sweep windows). Target (issue 17): p99
during the sweep within 2x of the idle p99.

    python benchmarks/lifecycle_sweep.py [--rows 500000] [--rate 50] [--idle-seconds 8]
                                         [--batch 250] [--postgres postgresql://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from warmline.hub.embedded import EmbeddedHub
from warmline.hub.lifecycle import sweeps
from warmline.hub.settings import HubSettings
from warmline.storage.migrate import upgrade

OLD = datetime.now(UTC) - timedelta(days=400)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else float("nan")


def fill_sqlite(path: Path, rows: int) -> None:
    conn = sqlite3.connect(path)
    stamp = OLD.replace(tzinfo=None).isoformat(sep=" ")
    body = json.dumps({"ok": True})
    chunk = 100_000
    for start in range(0, rows, chunk):
        n = min(chunk, rows - start)
        conn.executemany(
            "INSERT INTO idempotency_keys"
            " (principal, key, request_hash, response_status, response_body, created_at)"
            " VALUES ('bot:bench', ?, 'h', 201, ?, ?)",
            ((f"k{start + i}", body, stamp) for i in range(n)),
        )
        conn.executemany(
            "INSERT INTO events (type, created_at, conversation_id, handoff_id, data)"
            " VALUES ('agent.created', ?, NULL, NULL, ?)",
            ((stamp, body) for _ in range(n)),
        )
        conn.commit()
    conn.close()


async def fill_postgres(url: str, rows: int) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        body = json.dumps({"ok": True})
        await conn.copy_records_to_table(
            "idempotency_keys",
            records=((("bot:bench", f"k{i}", "h", 201, body, OLD)) for i in range(rows)),
            columns=["principal", "key", "request_hash", "response_status", "response_body", "created_at"],
        )
        await conn.copy_records_to_table(
            "events",
            records=(("agent.created", OLD, None, None, body) for _ in range(rows)),
            columns=["type", "created_at", "conversation_id", "handoff_id", "data"],
        )
        await conn.execute("ANALYZE idempotency_keys; ANALYZE events")
    finally:
        await conn.close()


async def load(url: str, token: str, cid: str, rate: float, until: asyncio.Event | float) -> list[float]:
    """POST buyer messages at ``rate``/s until the event is set or the time passes; latencies (s)."""
    latencies: list[float] = []
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as c:
        pending: set[asyncio.Task[None]] = set()

        async def one(i: int) -> None:
            t0 = time.perf_counter()
            r = await c.post(f"/v1/conversations/{cid}/messages", json={"body": f"load {i}"})
            r.raise_for_status()
            latencies.append(time.perf_counter() - t0)

        start = time.perf_counter()
        i = 0
        while True:
            if isinstance(until, asyncio.Event):
                if until.is_set():
                    break
            elif time.perf_counter() - start >= until:
                break
            i += 1
            task = asyncio.create_task(one(i))
            pending.add(task)
            task.add_done_callback(pending.discard)
            await asyncio.sleep(max(0.0, start + i / rate - time.perf_counter()))
        await asyncio.gather(*pending)
    return latencies


async def run(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="warmline-sweep-"))
    if args.postgres:
        import asyncpg

        name = f"warmline_bench_{uuid.uuid4().hex[:8]}"
        admin = await asyncpg.connect(args.postgres)
        await admin.execute(f'CREATE DATABASE "{name}"')
        await admin.close()
        url = f"{args.postgres.rsplit('/', 1)[0]}/{name}"
    else:
        url = f"sqlite:///{tmp / 'warmline.db'}"
    try:
        await upgrade(url)
        t0 = time.perf_counter()
        if args.postgres:
            await fill_postgres(url, args.rows)
        else:
            await asyncio.to_thread(fill_sqlite, tmp / "warmline.db", args.rows)
        took = time.perf_counter() - t0
        print(f"filled {args.rows:,} expired idempotency keys + {args.rows:,} old events in {took:.1f} s")
        settings = HubSettings(
            database_url=url, host="127.0.0.1", port=0, sweep_interval_s=10**6, sweep_batch=args.batch
        )
        hub = EmbeddedHub(settings)
        hub.start()
        try:
            bot = hub.create_bot("bench")
            async with httpx.AsyncClient(base_url=hub.base_url or "", timeout=30) as c:
                r = await c.post(
                    "/v1/conversations",
                    headers={"Authorization": f"Bearer {bot}"},
                    json={"buyer": {"name": "Bench"}, "subject": "bench", "messages": []},
                )
                r.raise_for_status()
                cid, buyer = r.json()["conversation"]["id"], r.json()["buyer_token"]
            await load(hub.base_url or "", buyer, cid, args.rate, 1.0)  # warm-up
            idle = await load(hub.base_url or "", buyer, cid, args.rate, args.idle_seconds)
            done = asyncio.Event()
            result: dict[str, Any] = {}

            def sweep() -> None:  # the hub's own sweeps, on its loop, one table after the other
                t = time.perf_counter()
                result["idempotency_keys"] = hub.run(
                    sweeps.sweep_idempotency(hub.db, settings.idempotency_ttl_s, args.batch), timeout=3600
                )
                result["keys_seconds"] = time.perf_counter() - t
                result["events"] = hub.run(
                    sweeps.sweep_events(hub.db, settings.event_retention_days, args.batch), timeout=3600
                )
                result["seconds"] = time.perf_counter() - t

            loop = asyncio.get_running_loop()
            sweeping = loop.run_in_executor(None, sweep)
            sweeping.add_done_callback(lambda _f: done.set())
            during = await load(hub.base_url or "", buyer, cid, args.rate, done)
            await sweeping
            # the baseline again, as long as the sweep took (a machine's noise over a long
            # window is not the sweep's)
            after = await load(hub.base_url or "", buyer, cid, args.rate, min(result["seconds"], 90.0))
        finally:
            hub.stop()
    finally:
        if args.postgres:
            admin = await asyncpg.connect(args.postgres)
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()
    engine = "PostgreSQL" if args.postgres else "SQLite"
    removed = result["idempotency_keys"] + result["events"]
    events_s = result["seconds"] - result["keys_seconds"]
    print(f"\n{engine}: keys swept in {result['keys_seconds']:.1f} s, events in {events_s:.1f} s")
    print(
        f"{engine}: swept {result['idempotency_keys']:,} keys + {result['events']:,} events in "
        f"{result['seconds']:.1f} s ({removed / result['seconds']:,.0f} rows/s, batches of {args.batch})"
    )
    print(
        f"buyer POST /messages at {args.rate:.0f}/s   no sweep (before)   during the sweep   no sweep (after)"
    )
    print(f"  requests {'':20}{len(idle):>12}   {len(during):>16}   {len(after):>16}")
    for p in (50, 95, 99):
        row = "   ".join(f"{pct(x, p) * 1e3:>16.1f}" for x in (during, after))
        print(f"  p{p:<3} ms {'':20}{pct(idle, p) * 1e3:>12.1f}   {row}")
    baseline = pct(idle + after, 99)
    ratio = pct(during, 99) / baseline
    print(f"  baseline p99 (both no-sweep windows): {baseline * 1e3:.1f} ms")
    print(f"  p99 during / idle: {ratio:.2f}x (target <= 2x: {'met' if ratio <= 2 else 'NOT met'})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=500_000, help="expired rows per table (two tables)")
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--idle-seconds", type=float, default=8.0)
    parser.add_argument("--batch", type=int, default=250)
    parser.add_argument(
        "--postgres", default=None, help="a PostgreSQL admin URL (a scratch database is made)"
    )
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
