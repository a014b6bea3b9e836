"""Escalation engine latency per buyer turn on the demo catalog, against the catalog floor.

Prints, in one run: the intent model's load time and its cost per buyer turn (scored with
numpy, uncached), and ``decide()`` per turn with the classifier loaded against the same engine
with the model switched off (rules only) and the catalog floor; decisions/s = 1000 / mean ms.
A fresh engine per round and every per-text cache cleared, so every message is read anew.

Replays the dev, held-out and evaluation sets turn by turn (each decision sees the transcript so
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
from warmline.escalation.classifier import IntentModel, _predict_cached
from warmline.escalation.engine import EscalationEngine
from warmline.escalation.grounding import sku_candidates
from warmline.escalation.models import Turn
from warmline.escalation.policy import Policy

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
SETS = ["escalation-dev.jsonl", "escalation-heldout.jsonl", "escalation-eval.jsonl"]


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


def clear_text_caches() -> None:
    """Forget every per-text cache, so each configuration reads the messages cold."""
    from warmline.escalation import extract, intents, text

    _predict_cached.cache_clear()
    extract._extract_facts.cache_clear()
    intents._classify.cache_clear()
    text.scope.cache_clear()


def model_figures(convs: list[tuple[AccountFacts, list[str]]]) -> None:
    """Load time of the shipped model, and its scoring cost per buyer turn (no cache)."""
    loads = []
    for _ in range(5):
        start = time.perf_counter()
        model = IntentModel.load()
        loads.append((time.perf_counter() - start) * 1000)
    print(
        f"intent model load      min {min(loads):6.1f} ms  median {statistics.median(loads):6.1f} ms "
        f"(version {model.version}, target <= 300 ms)"
    )
    bodies = [b for _, turns in convs for b in turns]
    scoring = []
    for body in bodies:
        start = time.perf_counter()
        model._predict(body)
        scoring.append((time.perf_counter() - start) * 1000)
    print(line("classifier per turn", scoring))


async def main(rounds: int, database_url: str | None) -> None:
    with tempfile.TemporaryDirectory(prefix="warmline-bench-") as tmp:
        url = database_url or f"sqlite:///{Path(tmp) / 'catalog.db'}"
        await ensure_demo_catalog(url)
        db = make_engine(url)
        try:
            catalog = CatalogService(db)
            convs = conversations()
            model_figures(convs)
            rules_policy = Policy.load()
            rules_policy.model.enabled = False
            await run_engine(EscalationEngine(catalog=catalog), convs[:10])  # warm-up: connections, imports
            floor: list[float] = []
            decide: list[float] = []
            rules_only: list[float] = []
            for _ in range(rounds):
                floor += await run_floor(catalog, convs)
                # interleaved per conversation (alternating which goes first), caches cleared before
                # each, so machine load hits both configurations alike
                with_model = EscalationEngine(catalog=catalog)
                rules = EscalationEngine(policy=rules_policy, catalog=catalog)
                for i, conv in enumerate(convs):
                    pair = [(rules, rules_only), (with_model, decide)]
                    for eng, sink in pair if i % 2 else reversed(pair):
                        clear_text_caches()
                        sink += await run_engine(eng, [conv])
            print(f"database: {url.split(':', 1)[0]}, {len(convs)} conversations x {rounds} rounds")
            print(line("baseline catalog floor", floor))
            print(line("decide(), rules only", rules_only))
            print(line("decide(), with model", decide))
            print(
                f"decisions/s (one task, with model): {1000 / statistics.fmean(decide):.0f}; "
                f"rules only: {1000 / statistics.fmean(rules_only):.0f}"
            )
            overhead = statistics.fmean(decide) - statistics.fmean(floor)
            print(f"engine overhead over the floor: {overhead:.1f} ms per turn (mean)")
            print(f"decide() p95 without the catalog floor's p95: {pct(decide, 95) - pct(floor, 95):.1f} ms")
        finally:
            await db.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.database_url))
