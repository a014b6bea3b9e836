"""Should catalog/units use pint? Correctness and speed of both, in one process (issue 11 item 2).

Every value the catalog reads from the bearing tables (tests/data/bearings through
resources/mappings/bearings.toml) and from the demo catalog (resources/catalog/demo) is
recorded as ingest sees it (the cell and the column's unit), then read three ways:

- ours: ``warmline.catalog.units`` (the value ingest stores, in SI);
- pint alone: ``pint.UnitRegistry().Quantity(text)`` converted to the dimension's SI unit;
- pint for the arithmetic only: our parser finds number(s) and unit, pint converts.

It prints how many values each reads at all and how many agree with ours (relative 1e-9),
then the speed: one conversion (ours vs pint), one ``make_attribute`` (ingest's per-cell
work) and ``CatalogService.substitutes`` on the demo catalog with the SUBS_CONSTRAINTS of
benchmarks/catalog_bench.py, with our conversion and with pint's swapped in (interleaved rounds).

pint is not a dependency: ``pip install pint`` (0.25.x: 0.26 needs Python 3.12) or put it on
PYTHONPATH, then

    .venv/bin/python benchmarks/units_pint_eval.py [--calls 200]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from catalog_bench import SUBS_CONSTRAINTS

from warmline.catalog import quantities, readers, records
from warmline.catalog.demo import demo_records, ensure_demo_catalog
from warmline.catalog.readers import collect
from warmline.catalog.records import make_attribute
from warmline.catalog.service import CatalogService, make_engine
from warmline.catalog.unit_table import DISPLAY_UNITS, QuantityError, to_si, unit_for
from warmline.resources import resource_path

REPO = Path(__file__).resolve().parents[1]
BEARINGS = REPO / "tests" / "data" / "bearings"

# Our canonical unit symbol -> pint's spelling of it (pint reads neither "N·m" nor "r/min").
PINT_NAME = {
    "N·m": "N*m",
    "kN·m": "kN*m",
    "lbf·ft": "lbf*ft",
    "°C": "degC",
    "°F": "degF",
    "m³/h": "m**3/h",
    "m³/s": "m**3/s",
    "gpm": "gallon/minute",
    "mm²": "mm**2",
    "µm": "um",
    "in": "inch",
    "t": "tonne",
    "r/min": "revolution/minute",
    "r/s": "revolution/second",
}
# Our SI unit per dimension, as pint spells it ("speed" is revolutions per second).
PINT_SI = {
    "voltage": "V",
    "current": "A",
    "power": "W",
    "torque": "N*m",
    "force": "N",
    "pressure": "Pa",
    "temperature": "K",
    "flow": "m**3/s",
    "length": "m",
    "area": "m**2",
    "mass": "kg",
    "speed": "revolution/second",
}


def record_cells() -> dict[str, list[tuple[str, Any, str]]]:
    """(attribute, cell, column unit) of every cell ingest reads, per source."""
    seen: list[tuple[str, Any, str]] = []
    real = records.make_attribute

    def spy(name: str, raw: Any, unit: str = "") -> Any:
        seen.append((name, raw, unit))
        return real(name, raw, unit)

    # table cells (readers) and "label: value" lines of documents (records)
    readers.make_attribute = records.make_attribute = spy  # type: ignore[assignment]
    out: dict[str, list[tuple[str, Any, str]]] = {}
    try:
        col = collect(BEARINGS, mapping=resource_path("mappings", "bearings.toml"))
        assert not col.errors, col.errors[:3]
        out["bearing tables"] = list(seen)
        seen.clear()
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "products.jsonl"
            path.write_text("\n".join(json.dumps(r) for r in demo_records()) + "\n", encoding="utf-8")
            col = collect(path)
            assert not col.errors, col.errors[:3]
        out["demo catalog"] = list(seen)
    finally:
        readers.make_attribute = records.make_attribute = real  # type: ignore[assignment]
    return out


def pint_alone(ureg: Any, cell: Any, unit: str, dimension: str) -> tuple[float, float] | None:
    """pint reading the text by itself: (lo, hi) in our SI unit, or None when it cannot."""
    text = str(cell.get("value") if isinstance(cell, dict) else cell).strip()
    unit = (cell.get("unit", unit) if isinstance(cell, dict) else unit) or ""
    try:
        q = ureg.Quantity(f"{text} {unit}".strip())
        si = q.to(PINT_SI[dimension]).magnitude
    except Exception:  # pint raises many kinds: undefined unit, syntax, dimensionality...
        return None
    return (float(si), float(si)) if isinstance(si, int | float) else None


def pint_converting(ureg: Any, text: str, dimension: str) -> tuple[float, float] | None:
    """Our parser finds the numbers and the unit; pint does the conversion."""
    m = quantities._quantity_re(True).fullmatch(text.strip())
    if m is None:
        return None
    symbol = unit_for(m.group("unit")).symbol
    name = PINT_NAME.get(symbol, symbol)
    lo_symbol = unit_for(m.group("u1")).symbol if m.group("u1") else symbol
    lo = ureg.Quantity(quantities._num(m.group("lo")), PINT_NAME.get(lo_symbol, lo_symbol))
    lo_si = float(lo.to(PINT_SI[dimension]).magnitude)
    hi_si = lo_si
    if m.group("hi") is not None:
        hi_si = float(ureg.Quantity(quantities._num(m.group("hi")), name).to(PINT_SI[dimension]).magnitude)
    return (min(lo_si, hi_si), max(lo_si, hi_si))


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def correctness(ureg: Any, cells: dict[str, list[tuple[str, Any, str]]]) -> None:
    print("\n## Correctness (numeric attribute values only; ratings and text are not units)\n")
    print("| source | values | pint reads the text | agrees with ours | pint converts our parse | agrees |")
    print("|---|---|---|---|---|---|")
    misses: Counter[str] = Counter()
    wrong: Counter[str] = Counter()
    for source, rows in cells.items():
        n = read_a = ok_a = read_b = ok_b = 0
        for name, raw, unit in rows:
            try:
                rec = make_attribute(name, raw, unit)
            except ValueError:
                continue
            if rec.dimension not in PINT_SI or rec.lo is None or rec.hi is None:
                continue
            n += 1
            got = pint_alone(ureg, raw, unit, rec.dimension)
            if got is not None:
                read_a += 1
                if close(got[0], rec.lo) and close(got[1], rec.hi):
                    ok_a += 1
                else:
                    wrong[f"{raw!r} {unit}".strip()] += 1
            else:
                misses[f"{raw!r} {unit}".strip()] += 1
            text = str(raw.get("value") if isinstance(raw, dict) else raw)
            u = (raw.get("unit", unit) if isinstance(raw, dict) else unit) or ""
            both = f"{text} {u}" if u and not _has_unit(text) else text
            try:
                got_b = pint_converting(ureg, both, rec.dimension)
            except Exception:
                got_b = None
            if got_b is not None:
                read_b += 1
                ok_b += close(got_b[0], rec.lo) and close(got_b[1], rec.hi)
        print(f"| {source} | {n:,} | {read_a:,} | {ok_a:,} | {read_b:,} | {ok_b:,} |")
    print(
        "\nValues pint alone cannot read (most common):",
        ", ".join(f"{k!r}×{v}" for k, v in misses.most_common(8)),
    )
    print(
        "pint alone reads but differently:", ", ".join(f"{k}×{v}" for k, v in wrong.most_common(6)) or "none"
    )
    # The classic trap: revolutions are radians to pint, and radians are dimensionless.
    rpm = ureg.Quantity(60, "rpm").to("1/s").magnitude
    print(f"pint: 60 rpm in 1/s = {rpm:.4f} (ours: {to_si(60, 'r/min'):.4f} r/s)")


def _has_unit(text: str) -> bool:
    try:
        quantities.parse_quantity(text)
    except QuantityError:
        return False
    return True


def per_call(fn: Callable[[], object], n: int) -> float:
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t0) / n * 1e6


def conversion_speed(ureg: Any) -> None:
    print("\n## Speed of one conversion and of ingest's per-cell work (µs, best of 3)\n")
    print("| operation | ours | pint | pint / ours |\n|---|---|---|---|")
    samples = [
        (12.5, "kN·m", "torque"),
        (20.0, "l/min", "flow"),
        (80.0, "°C", "temperature"),
        (6.0, "bar", "pressure"),
    ]
    for value, unit, dim in samples:
        name = PINT_NAME.get(unit, unit)
        ours = min(per_call(lambda v=value, u=unit: to_si(v, u), 20_000) for _ in range(3))
        theirs = min(
            per_call(lambda v=value, n=name, d=dim: ureg.Quantity(v, n).to(PINT_SI[d]).magnitude, 2_000)
            for _ in range(3)
        )
        print(f"| {value} {unit} → SI | {ours:.2f} | {theirs:.1f} | {theirs / ours:.0f}× |")
    cells = [("torque", "0.2 kN·m", ""), ("flow", "20", "l/min"), ("temperature", "-20...+80 °C", "")]
    ours = min(per_call(lambda: [make_attribute(*c) for c in cells], 2_000) for _ in range(3)) / len(cells)
    with pint_conversions(ureg):
        theirs = min(per_call(lambda: [make_attribute(*c) for c in cells], 500) for _ in range(3)) / len(
            cells
        )
    print(f"| make_attribute (a cell at ingest) | {ours:.1f} | {theirs:.1f} | {theirs / ours:.1f}× |")


class pint_conversions:
    """Swap our conversion in ``quantities._quantity_from_match`` for pint's (context manager)."""

    def __init__(self, ureg: Any) -> None:
        self.ureg = ureg
        self.real = quantities._quantity_from_match

    def __enter__(self) -> None:
        ureg, real = self.ureg, self.real
        si_of = {u.symbol: PINT_SI.get(u.dimension) for u in DISPLAY_UNITS.values()}

        def converted(m: Any, original: str) -> Any:
            q = real(m, original)  # our reading of the numbers, units and range
            symbol = unit_for(m.group("unit")).symbol
            target = si_of.get(symbol)
            if target is None:
                return q
            lo = ureg.Quantity(quantities._num(m.group("lo")), PINT_NAME.get(symbol, symbol)).to(target)
            hi = q.value_max
            if m.group("hi") is not None:
                hi = float(
                    ureg.Quantity(quantities._num(m.group("hi")), PINT_NAME.get(symbol, symbol))
                    .to(target)
                    .magnitude
                )
            return q.model_copy(update={"value": float(lo.magnitude), "value_max": hi})

        quantities._quantity_from_match = converted  # type: ignore[assignment]

    def __exit__(self, *exc: object) -> None:
        quantities._quantity_from_match = self.real  # type: ignore[assignment]


async def substitutes_speed(ureg: Any, calls: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'demo.db'}"
        await ensure_demo_catalog(url)
        engine = make_engine(url)
        svc = CatalogService(engine)
        try:
            rows = [(r["sku"], r["family"]) for r in demo_records()]
            picks = [rows[(i * 7919) % len(rows)] for i in range(calls)]
            for sku, fam in picks[:5]:
                await svc.substitutes(sku, SUBS_CONSTRAINTS.get(fam, []))  # warm caches
            lat: dict[str, list[float]] = {"ours": [], "pint": []}
            outcome: Counter[str] = Counter()
            for i, (sku, fam) in enumerate(picks):
                for mode in ("ours", "pint") if i % 2 == 0 else ("pint", "ours"):
                    t0 = time.perf_counter()
                    if mode == "pint":
                        with pint_conversions(ureg):
                            got = await svc.substitutes(sku, SUBS_CONSTRAINTS.get(fam, []))
                    else:
                        got = await svc.substitutes(sku, SUBS_CONSTRAINTS.get(fam, []))
                    lat[mode].append((time.perf_counter() - t0) * 1000)
                    if mode == "ours":
                        ours_skus = [c.product.sku for c in got]
                    else:
                        pint_skus = [c.product.sku for c in got]
                outcome[
                    "same candidates, same order"
                    if ours_skus == pint_skus
                    else "same candidates, another order"
                    if sorted(ours_skus) == sorted(pint_skus)
                    else "other candidates"
                ] += 1
        finally:
            await engine.dispose()
    print(f"\n## Substitutes on the demo catalog ({calls} calls each, interleaved; SQLite)\n")
    print("| conversion | p50 ms | p95 ms |\n|---|---|---|")
    for mode, samples in lat.items():
        s = sorted(samples)
        print(f"| {mode} | {statistics.median(s):.2f} | {s[int(0.95 * (len(s) - 1))]:.2f} |")
    print("\nResults, pint vs ours: " + ", ".join(f"{k}: {v}" for k, v in outcome.items()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=200, help="substitutes calls per conversion")
    args = ap.parse_args()
    try:
        import pint
    except ImportError:
        sys.exit("pint is not installed: pip install 'pint<0.26' (or put it on PYTHONPATH)")
    ureg = pint.UnitRegistry()
    print(f"pint {pint.__version__}, Python {sys.version.split()[0]}")
    cells = record_cells()
    correctness(ureg, cells)
    conversion_speed(ureg)
    asyncio.run(substitutes_speed(ureg, args.calls))


if __name__ == "__main__":
    main()
