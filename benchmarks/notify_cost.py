"""What NOTIFY (and the event-order lock) cost at commit, under concurrent writers.

Raw asyncpg against a fresh database on the given server: C writer connections commit
small transactions shaped like the hub's event append (one ~600-byte JSON event row) as
fast as they can for S seconds, while 2 other connections LISTEN (two hub instances).
Variants, each in the same run:

  bare            INSERT; COMMIT                                   (baseline: no lock, no NOTIFY)
  notify          INSERT; NOTIFY; COMMIT
  lock            advisory xact lock; INSERT; COMMIT
  lock 1rt        lock and INSERT in one statement; COMMIT         (NOTIFY sent after commit instead)
  lock+notify 3rt lock; INSERT; NOTIFY; COMMIT as 3 statements     (the hub before issue 6)
  lock+notify 1rt lock, INSERT and NOTIFY in one statement; COMMIT
  one message     BEGIN; lock; INSERT; NOTIFY; COMMIT sent as one script (the hub after issue 6)

Prints commits/s and commit latency (BEGIN sent -> COMMIT answered) p50/p99 per variant.
``--think-ms`` adds a client-side pause between the statements of a transaction, as a
busy hub's event loop does (the lock is held across it).

    python benchmarks/notify_cost.py [--writers 8] [--seconds 5] [--think-ms 0]
        [--postgres postgresql://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
import uuid

import asyncpg

LOCK = 0x57A7_11E5
DATA = json.dumps({"message": {"id": "msg_" + "x" * 32, "body": "y" * 400, "seq": 1}})
INSERT = "INSERT INTO bench_events (type, data) VALUES ('message.created', $1::json) RETURNING id"
ONE_STATEMENT = (
    "WITH l AS (SELECT pg_advisory_xact_lock($2)), "
    "i AS (INSERT INTO bench_events (type, data) SELECT 'message.created', $1::json FROM l RETURNING id) "
    "SELECT pg_notify('bench_events', ''), (SELECT max(id) FROM i)"
)

ONE_STATEMENT_NO_NOTIFY = (
    "WITH l AS (SELECT pg_advisory_xact_lock($2)) "
    "INSERT INTO bench_events (type, data) SELECT 'message.created', $1::json FROM l RETURNING id"
)

SCRIPT = (
    f"BEGIN;SELECT pg_advisory_xact_lock({LOCK});"
    f"INSERT INTO bench_events (type, data) VALUES ('message.created', $wl${DATA}$wl$);"
    "SELECT pg_notify('bench_events', '');COMMIT;"
)

VARIANTS = ["bare", "notify", "lock", "lock 1rt", "lock+notify 3rt", "lock+notify 1rt", "one message"]


async def writer(url: str, variant: str, until: float, think: float, lat: list[float]) -> None:
    conn = await asyncpg.connect(url)
    try:
        while time.monotonic() < until:
            t0 = time.perf_counter()
            if variant == "one message":
                await conn.execute(SCRIPT)  # the server never waits for us while holding the lock
                lat.append((time.perf_counter() - t0) * 1000)
                continue
            async with conn.transaction():
                if variant == "lock+notify 1rt":
                    await conn.fetchrow(ONE_STATEMENT, DATA, LOCK)
                elif variant == "lock 1rt":
                    await conn.fetchrow(ONE_STATEMENT_NO_NOTIFY, DATA, LOCK)
                else:
                    if variant.startswith("lock"):
                        await conn.execute("SELECT pg_advisory_xact_lock($1)", LOCK)
                        if think:
                            await asyncio.sleep(think)
                    await conn.fetchval(INSERT, DATA)
                    if "notify" in variant:
                        if think:
                            await asyncio.sleep(think)
                        await conn.execute("SELECT pg_notify('bench_events', '')")
                if think:
                    await asyncio.sleep(think)
            lat.append((time.perf_counter() - t0) * 1000)
    finally:
        await conn.close()


async def run(args: argparse.Namespace) -> None:
    name = f"warmline_notify_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(args.postgres)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = f"{args.postgres.rsplit('/', 1)[0]}/{name}"
    try:
        setup = await asyncpg.connect(url)
        await setup.execute(
            "CREATE TABLE bench_events (id bigserial PRIMARY KEY, type text, created_at timestamptz "
            "DEFAULT now(), conversation_id text, handoff_id text, data json)"
        )
        listeners = [await asyncpg.connect(url) for _ in range(2)]
        woken = [0]
        for c in listeners:
            await c.add_listener("bench_events", lambda *_a: woken.__setitem__(0, woken[0] + 1))
        print(f"load average before: {os.getloadavg()}")
        print(
            f"{args.writers} writers, {args.seconds:g} s per variant, think {args.think_ms:g} ms, 2 listeners"
        )
        print(f"{'variant':<18}{'commits/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'vs bare':>9}")
        base = None
        for variant in VARIANTS:
            await setup.execute("TRUNCATE bench_events")
            lat: list[float] = []
            until = time.monotonic() + args.seconds
            started = time.monotonic()
            await asyncio.gather(
                *[writer(url, variant, until, args.think_ms / 1000, lat) for _ in range(args.writers)]
            )
            rate = len(lat) / (time.monotonic() - started)
            lat.sort()
            base = base or rate
            print(
                f"{variant:<18}{rate:>10.0f}{statistics.median(lat):>9.2f}"
                f"{lat[int(0.99 * (len(lat) - 1))]:>9.2f}{rate / base:>8.2f}x"
            )
        for c in listeners:
            await c.close()
        await setup.close()
        print(f"notifications delivered to listeners: {woken[0]}")
        print(f"load average after: {os.getloadavg()}")
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--writers", type=int, default=8)
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--think-ms", type=float, default=0.0)
    p.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    asyncio.run(run(p.parse_args()))


if __name__ == "__main__":
    main()
