"""GET /v1/metrics' computation (``warmline.hub.metrics.compute``) over a generated year of
100,000 resolved handoffs, on SQLite and on PostgreSQL.

The history is written straight into ``handoff_facts`` (what the hub keeps as handoffs
change): 365 days, 6 reasons, 4 skills, 20 agents, reviews on 60 %, ratings on 30 %.
Printed per engine: the baseline (one scan counting escalations per day), and the
whole report for the year and for one month, median of 5 runs. Target: <= 200 ms for the
year on both engines.

    .venv/bin/python benchmarks/metrics_bench.py [--rows 100000] [--skip-postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
from sqlalchemy import func, insert, select

from warmline.hub.metrics.compute import F, Window, compute
from warmline.hub.metrics.tables import HandoffFactRow
from warmline.hub.store.db import Database
from warmline.storage.migrate import upgrade

ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
REASONS = ["low_confidence", "live_data", "purchase_intent", "complexity", "explicit_request", "policy_rule"]
OUTCOMES = ["answered", "quote_sent", "order_placed", "lost", "no_response", None]


def history(n: int, seed: int = 13) -> list[dict]:
    rnd = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rows = []
    for i in range(n):
        at = start + timedelta(seconds=rnd.randrange(365 * 86400))
        ttfr = int(rnd.lognormvariate(6, 1))
        res = ttfr + int(rnd.lognormvariate(8, 1))
        reviewed = rnd.random() < 0.6
        rows.append(
            {
                "handoff_id": f"hnd_{i:08d}",
                "conversation_id": f"cnv_{i:08d}",
                "escalated_at": at,
                "escalated_day": at.date().isoformat(),
                "escalated_seq": 3,
                "reason": rnd.choice(REASONS),
                "priority": "normal",
                "skill": rnd.choice(["drives", "pumps", "quotes", "general"]),
                "skills": [],
                "high_intent": rnd.random() < 0.3,
                "claimed_at": at + timedelta(seconds=ttfr // 2),
                "agent_id": f"agt_{rnd.randrange(20):02d}",
                "first_reply_at": at + timedelta(seconds=ttfr),
                "first_reply_seconds": ttfr,
                "ai_assisted": rnd.random() < 0.5,
                "resolved_at": at + timedelta(seconds=res),
                "resolution_seconds": res,
                "requeues": int(rnd.random() < 0.1),
                "transfers": 0,
                "outcome": rnd.choice(OUTCOMES) if reviewed else None,
                "unnecessary": (rnd.random() < 0.15) if reviewed else None,
                "late": (rnd.random() < 0.1) if reviewed else None,
                "late_turn": None,
                "buyer_repeated": (rnd.random() < 0.1) if reviewed else None,
                "repeat_detected": rnd.random() < 0.08,
                "reviewed": reviewed,
                "rating": rnd.randint(1, 5) if rnd.random() < 0.3 else None,
            }
        )
    return rows


async def timed(fn, runs: int = 5) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        await fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


async def bench(name: str, url: str, rows: list[dict]) -> None:
    await upgrade(url)
    db = Database(url)
    await db.start(listen=False)
    try:
        async with db.write() as tx:
            for i in range(0, len(rows), 5000):
                await tx.session.execute(insert(HandoffFactRow), rows[i : i + 5000])
        async with db.read() as session:
            count = await session.scalar(select(func.count()).select_from(HandoffFactRow))
        year = Window(datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
        month = Window(datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))

        async def read_only() -> None:  # the cheapest scan of the window: escalations per day
            async with db.read() as session:
                stmt = select(F.escalated_day, func.count()).where(F.escalated_at >= year.start)
                await session.execute(stmt.where(F.escalated_at < year.end).group_by(F.escalated_day))

        async def report(window: Window) -> None:
            async with db.read() as session:
                await compute(session, window)

        base = await timed(read_only)
        full = await timed(lambda: report(year))
        one = await timed(lambda: report(month))
        print(
            f"{name:<10} rows={count}  baseline (count per day) {base:7.1f} ms  "
            f"report year {full:7.1f} ms  report month {one:6.1f} ms  target 200 ms: "
            f"{'met' if full <= 200 else 'NOT met'}"
        )
    finally:
        await db.close()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    rows = history(args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        await bench("sqlite", f"sqlite:///{Path(tmp) / 'bench.db'}", rows)
    if not args.skip_postgres:
        name = f"warmline_bench_{uuid.uuid4().hex[:8]}"
        admin = await asyncpg.connect(ADMIN)
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            await bench("postgresql", f"{ADMIN.rsplit('/', 1)[0]}/{name}", rows)
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
