"""Escalation engine latency per buyer turn on the demo catalog, against the catalog floor.

Replays the dev and held-out eval sets turn by turn (each decision sees the transcript so
far, as the hub would send it) and times ``EscalationEngine.decide``. The baseline, in the
same run and on the same database, is the catalog work any grounded answer needs at least:
the SKU look-ups of the turn plus one search for its words. The difference is the engine's
own cost (reading the transcript, signals, ranking, packets).

    python benchmarks/escalation_bench.py [--rounds 3] [--database-url sqlite:///...|postgresql://...]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import tempfile
import time
from pathlib import Path

from warmline.catalog.demo import ensure_demo_catalog
from warmline.catalog.service import CatalogService, make_engine
from warmline.domain.models import AuthorKind
from warmline.domain.packet import AccountFacts
from warmline.escalation.engine import EscalationEngine
from warmline.escalation.grounding import sku_candidates
from warmline.escalation.models import Turn

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
SETS = ["escalation-dev.jsonl", "escalation-heldout.jsonl"]


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of a list of timings."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def conversations() -> list[tuple[AccountFacts, list[str]]]:
    """(account, buyer turns) of every labelled conversation in the eval sets."""
    out = []
    for name in SETS:
        for line in (DATA / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                out.append((AccountFacts(**row.get("account", {})), list(row["buyer_turns"])))
    return out


async def run_engine(engine: EscalationEngine, convs: list[tuple[AccountFacts, list[str]]]) -> list[float]:
    """Milliseconds per decide() call, replaying every buyer turn."""
    timings = []
    for account, bodies in convs:
        turns: list[Turn] = []
        for body in bodies:
            turns.append(Turn(seq=len(turns) + 1, author_kind=AuthorKind.BUYER, body=body))
            start = time.perf_counter()
            decision = await engine.decide(turns, account)
            timings.append((time.perf_counter() - start) * 1000)
            turns.append(Turn(seq=len(turns) + 1, author_kind=AuthorKind.AI, body=decision.reply))
    return timings


async def run_floor(catalog: CatalogService, convs: list[tuple[AccountFacts, list[str]]]) -> list[float]:
    """Milliseconds per turn for the catalog floor: SKU look-ups plus one search."""
    timings = []
    for _, bodies in convs:
        for body in bodies:
            start = time.perf_counter()
            for token in sku_candidates(body):
                await catalog.get_product(token)
            with contextlib.suppress(ValueError):
                await catalog.search(body[:200], limit=8)
            timings.append((time.perf_counter() - start) * 1000)
    return timings


def line(label: str, values: list[float]) -> str:
    return (
        f"{label:<22} turns {len(values):>4}  mean {statistics.fmean(values):6.1f} ms  "
        f"p50 {pct(values, 50):6.1f}  p95 {pct(values, 95):6.1f}  max {max(values):6.1f}"
    )


async def main(rounds: int, database_url: str | None) -> None:
    with tempfile.TemporaryDirectory(prefix="warmline-bench-") as tmp:
        url = database_url or f"sqlite:///{Path(tmp) / 'catalog.db'}"
        await ensure_demo_catalog(url)
        db = make_engine(url)
        try:
            catalog = CatalogService(db)
            engine = EscalationEngine(catalog=catalog)
            convs = conversations()
            await run_engine(engine, convs[:10])  # warm-up: connections, caches, imports
            floor: list[float] = []
            decide: list[float] = []
            for _ in range(rounds):
                floor += await run_floor(catalog, convs)
                decide += await run_engine(engine, convs)
            print(f"database: {url.split(':', 1)[0]}, {len(convs)} conversations x {rounds} rounds")
            print(line("baseline catalog floor", floor))
            print(line("engine decide()", decide))
            overhead = statistics.fmean(decide) - statistics.fmean(floor)
            print(f"engine overhead over the floor: {overhead:.1f} ms per turn (mean)")
        finally:
            await db.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.database_url))
