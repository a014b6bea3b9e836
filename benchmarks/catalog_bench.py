"""Catalog benchmark (issue 3): a generated catalog of ~100,000 SKUs.

Measures ingest time, and search / spec-sheet / substitutes latency (p50, p95) through
the public CatalogService, with bm25s over the very same texts in the same run as the
peer baseline for search. Targets on the embedded default (SQLite): spec sheet p95 <= 5 ms,
search p95 <= 20 ms, substitutes p95 <= 50 ms.

    python benchmarks/catalog_bench.py [--scale 46] [--postgres URL] [--db PATH] [--write]

``--db PATH`` keeps the SQLite catalog in PATH and reuses it on the next run (same --scale),
skipping the ~90 s ingest; ingest time is then not reported.

``--write`` puts the run into the block marked for this script in docs/benchmarks.md (and only there).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from docwrite import write_block
from sqlalchemy import func, select

from warmline.catalog import tables as t
from warmline.catalog.demo import demo_records
from warmline.catalog.ingest import ingest_path
from warmline.catalog.service import CatalogService, make_engine
from warmline.storage.migrate import upgrade

HEADING = "### Latest full run (written by `catalog_bench.py --write`)"

SEARCH_WORDS = [
    "washdown gearbox",
    "coolant pump",
    "M12 sensor cable",
    "solenoid valve",
    "push-in fitting ATEX",
    "inductive proximity sensor",
    "helical gearmotor",
    "deep groove ball bearing",
    "centrifugal pump",
    "stainless",
    "EU declaration of conformity",
    "field-attachable connector",
    "machine-tool coolant",
]
SEARCH_FILTERS = [
    "gearbox family:gearbox torque>=180Nm ip>=65",
    "pump flow>=40l/min",
    "valve pressure>=10bar",
    "family:sensor ip>=67",
    "fitting atex>=2G",
    "cable length>=5m",
    "bearing bore=20mm",
]
SUBS_CONSTRAINTS = {
    "gearbox": ["torque>=180Nm", "ip>=65", "voltage:400V"],
    "gearmotor": ["power>=0.5kW", "ip>=55"],
    "pump": ["flow>=20l/min", "temperature>=60°C"],
    "pneumatic_fitting": ["pressure>=10bar"],
    "valve": ["pressure>=8bar", "ip>=65"],
    "connector": ["current>=4A"],
    "cable": ["length>=5m"],
    "sensor": ["ip>=67", "sensing_range>=8mm"],
    "bearing": ["dynamic_load>=5kN"],
}


def pct(samples: list[float], p: float) -> float:
    s = sorted(samples)
    k = max(0, min(len(s) - 1, round(p / 100 * (len(s) - 1))))
    return s[k]


def machine() -> dict[str, str]:
    model = "unknown"
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        m = re.search(r"Model name:\s*(.+)", out)
        model = m.group(1).strip() if m else model
    except OSError:
        pass
    mem = "unknown"
    try:
        kb = int(re.search(r"MemTotal:\s*(\d+)", Path("/proc/meminfo").read_text()).group(1))  # type: ignore[union-attr]
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, AttributeError):
        pass
    return {
        "cpu": model,
        "cores": str(os.cpu_count()),
        "ram": mem,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
    }


async def timed(n: int, make: Callable[[int], Awaitable[Any]]) -> list[float]:
    out = []
    for i in range(n):
        t0 = time.perf_counter()
        await make(i)
        out.append((time.perf_counter() - t0) * 1000)
    return out


async def run(database_url: str, records_path: Path, n: int, rng: random.Random) -> dict[str, Any]:
    await upgrade(database_url)
    engine = make_engine(database_url)
    res: dict[str, Any] = {}
    try:
        async with engine.connect() as conn:
            existing = int(await conn.scalar(select(func.count()).select_from(t.products)))
        if existing:  # --db reuse: the catalog is already ingested, measure lookups only
            res["ingest_s"] = None
            res["report"] = f"reused {existing:,} product(s) already in the database"
        else:
            t0 = time.perf_counter()
            report = await ingest_path(engine, records_path.parent, show_progress=True)
            res["ingest_s"] = time.perf_counter() - t0
            res["report"] = report.summary()
        svc = CatalogService(engine)
        async with engine.connect() as conn:
            rows = (await conn.execute(select(t.products.c.sku, t.products.c.family))).all()
            res["texts"] = int(await conn.scalar(select(func.count()).select_from(t.search)))
        skus = [r.sku for r in rows]
        fam = {r.sku: r.family for r in rows}
        queries = [rng.choice(SEARCH_WORDS + SEARCH_FILTERS) for _ in range(n)]
        for q in queries[:5]:
            await svc.search(q)  # warm caches
        res["search"] = await timed(n, lambda i: svc.search(queries[i]))
        res["search_text"] = await timed(n, lambda i: svc.search(SEARCH_WORDS[i % len(SEARCH_WORDS)]))
        res["search_filters"] = await timed(n, lambda i: svc.search(SEARCH_FILTERS[i % len(SEARCH_FILTERS)]))
        spec_skus = [rng.choice(skus) for _ in range(n)]
        res["spec"] = await timed(n, lambda i: svc.spec_sheet(spec_skus[i]))
        sub_skus = [rng.choice(skus) for _ in range(n)]
        res["subs"] = await timed(
            n, lambda i: svc.substitutes(sub_skus[i], SUBS_CONSTRAINTS.get(fam[sub_skus[i]], []))
        )
        res["bm25s"] = await bm25_baseline(engine, n, rng)
    finally:
        await engine.dispose()
    return res


async def bm25_baseline(engine: Any, n: int, rng: random.Random) -> dict[str, Any]:
    """bm25s over the same texts the database indexes (title + body of catalog_search)."""
    import bm25s

    async with engine.connect() as conn:
        texts = [f"{a} {b}" for a, b in (await conn.execute(select(t.search.c.title, t.search.c.body))).all()]
    t0 = time.perf_counter()
    tokens = bm25s.tokenize(texts, stopwords="en", show_progress=False)
    retriever = bm25s.BM25()
    retriever.index(tokens, show_progress=False)
    build = time.perf_counter() - t0
    lat = []
    for i in range(n):
        q = SEARCH_WORDS[i % len(SEARCH_WORDS)]
        t1 = time.perf_counter()
        qt = bm25s.tokenize([q], stopwords="en", show_progress=False)
        retriever.retrieve(qt, k=20, show_progress=False, n_threads=1)
        lat.append((time.perf_counter() - t1) * 1000)
    return {"build_s": build, "lat": lat}


def row(name: str, samples: list[float], target: str = "") -> str:
    return f"| {name} | {statistics.median(samples):.2f} | {pct(samples, 95):.2f} | {target} |"


def render(results: dict[str, dict[str, Any]], n_skus: int, n: int, mach: dict[str, str]) -> str:
    lines = [
        HEADING,
        "",
        f"Generated catalog: {n_skus:,} SKUs in 9 families (`demo_records(scale)` of "
        "`warmline.catalog.demo`), each with a datasheet; every figure below is from one run of "
        f"`benchmarks/catalog_bench.py`, {n} timed calls per line, through the public `CatalogService` "
        "(async SQLAlchemy; aiosqlite / asyncpg).",
        "",
        f"Machine: {mach['cpu']}, {mach['cores']} cores (shared with other work during the run), "
        f"{mach['ram']} RAM, Python {mach['python']}, SQLite {mach['sqlite']}.",
        "",
    ]
    for engine_name, r in results.items():
        lines += [
            f"#### {engine_name}",
            "",
            (
                f"Ingest: {r['ingest_s']:.1f} s ({r['report']}); {r['texts']:,} indexed texts."
                if r["ingest_s"] is not None
                else f"Ingest: not measured ({r['report']}); {r['texts']:,} indexed texts."
            ),
            "",
            "| lookup | p50 ms | p95 ms | target (SQLite) |",
            "|---|---|---|---|",
            row("search (text + filter mix)", r["search"], "p95 ≤ 20 ms"),
            row("search (text only)", r["search_text"]),
            row("search (the 7 filter queries only)", r["search_filters"]),
            row("spec sheet", r["spec"], "p95 ≤ 5 ms"),
            row("substitutes (with family constraints)", r["subs"], "p95 ≤ 50 ms"),
            row("peer baseline: bm25s retrieve top-20, same texts, text only", r["bm25s"]["lat"]),
            "",
            f"bm25s index build over the same texts: {r['bm25s']['build_s']:.1f} s (in memory, "
            "not persisted, no filters, no snippets).",
            "",
        ]
    return "\n".join(lines).rstrip() + "\n"


def write_section(text: str) -> None:
    write_block("catalog_bench.py", text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=int, default=46, help="demo_records scale (46 -> ~101,700 SKUs)")
    ap.add_argument("--calls", type=int, default=300, help="timed calls per lookup")
    ap.add_argument("--postgres", default=None, help="also run on this (empty) PostgreSQL database URL")
    ap.add_argument("--write", action="store_true", help="write the section into docs/benchmarks.md")
    ap.add_argument("--skip-sqlite", action="store_true", help="only the PostgreSQL run (needs --postgres)")
    ap.add_argument(
        "--db",
        type=Path,
        default=None,
        help="SQLite file to use (kept): ingested only when it has no products, reused as is otherwise",
    )
    args = ap.parse_args()
    rng = random.Random(7)
    records = demo_records(scale=args.scale)
    mach = machine()
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data" / "products.jsonl"
        data.parent.mkdir()
        with data.open("w", encoding="utf-8") as fh:
            for rec in records:
                fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
        print(f"{len(records):,} SKUs written to {data}", file=sys.stderr)
        if not args.skip_sqlite:
            results["SQLite (embedded default)"] = asyncio.run(
                run(f"sqlite:///{(args.db or Path(tmp) / 'bench.db').resolve()}", data, args.calls, rng)
            )
        if args.postgres:
            results["PostgreSQL"] = asyncio.run(run(args.postgres, data, args.calls, random.Random(7)))
    text = render(results, len(records), args.calls, mach)
    print(text)
    if args.write:
        write_section(text)


if __name__ == "__main__":
    main()
