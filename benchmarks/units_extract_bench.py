"""Quantity extraction on hostile buyer text (issue 19): time for n and 4n characters.

Runs ``warmline.catalog.units.extract_quantities`` over runs of digits, "1.1.", "-", unit-like
letters and the like, at n and 4n characters, and prints the time ratio: linear extraction
gives about 4 (a quadratic one 16). The baseline in the same run is the pre-fix pattern
(unbounded ``\\d+`` and ``\\s*``), on a shorter text so that it finishes.

    .venv/bin/python benchmarks/units_extract_bench.py [--n 20000]
"""

from __future__ import annotations

import argparse
import re
import time
from collections.abc import Callable

from warmline.catalog.quantities import _unit_alternation
from warmline.catalog.units import extract_quantities

SHAPES = {
    "digits": "1",
    "1.1.": "1.1.",
    "dashes": "-",
    "1-": "1-",
    "unit letters": "kNm",
    "1,": "1,",
    "1 + spaces": "1    ",
    "ATEX words": "II 2G Ex ",
    "NEMA": "NEMA ",
    "20-digit numbers": "12345678901234567890 V ",
    "real quantities": "400 V, ",
}


def _old_pattern() -> re.Pattern[str]:
    """The quantity pattern before the fix (unbounded repeats), for the baseline."""
    num = r"[-+−]?\d+(?:[.,]\d+)?"
    sep = r"\s*(?:\.\.\.?|…|–|—|-|/|to|bis)\s*"
    units = _unit_alternation(False)
    return re.compile(
        rf"(?P<lo>{num})(?:(?:\s*(?P<u1>{units}))?(?P<sep>{sep})(?P<hi>{num}))?\s*(?P<unit>{units})"
    )


def best_of(fn: Callable[[], object], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20_000, help="characters of the short text (the long one is 4n)")
    args = ap.parse_args()
    n = args.n
    print(f"extract_quantities, best of 3, text of n={n:,} and 4n={4 * n:,} characters")
    print("| shape | n ms | 4n ms | ratio 4n/n (linear ≈ 4) |\n|---|---|---|---|")
    worst = 0.0
    for name, unit in SHAPES.items():
        short = (unit * (n // len(unit) + 1))[:n]
        long = (unit * (4 * n // len(unit) + 1))[: 4 * n]
        a = best_of(lambda s=short: extract_quantities(s))
        b = best_of(lambda s=long: extract_quantities(s))
        ratio = b / max(a, 1e-9)
        worst = max(worst, ratio)
        print(f"| {name} | {a * 1000:.1f} | {b * 1000:.1f} | {ratio:.1f} |")
    print(f"worst ratio: {worst:.1f} (target ≤ 6: linear within noise)")
    old = _old_pattern()
    m = 1_000
    print(f"\nbaseline: the pre-fix pattern over a run of digits (n={m:,} and 4n={4 * m:,}):")
    a = best_of(lambda: list(old.finditer("1" * m)), 1)
    b = best_of(lambda: list(old.finditer("1" * 4 * m)), 1)
    new_b = best_of(lambda: extract_quantities("1" * 4 * m))
    print(f"| pre-fix pattern | {a * 1000:.1f} ms | {b * 1000:.1f} ms | ratio {b / max(a, 1e-9):.1f} |")
    print(f"| extract_quantities now, 4n | | {new_b * 1000:.2f} ms | |")


if __name__ == "__main__":
    main()
