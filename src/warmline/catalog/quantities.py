"""Quantities read from the way people and datasheets write them, and compared.

``parse_quantity`` reads one value ("0.2 kN·m", "-20...+80 °C", "IP66"), ``extract_quantities``
finds them in prose in time linear in its length (every pattern bounded, see MAX_DIGITS),
``compare`` decides "actual op wanted" across units and for ratings. No I/O: the escalation
engine calls these on buyer text.
"""

from __future__ import annotations

import bisect
import math
import re
from functools import cache

from pydantic import BaseModel, ConfigDict

from warmline.catalog.ratings import (
    _ATEX_FIND_RE,
    _IP_RE,
    _NEMA_ORDER,
    _NEMA_RE,
    nema_satisfies,
    parse_atex,
    parse_ip,
    parse_nema,
)
from warmline.catalog.unit_table import (
    _STRICT_ONLY,
    DIMENSIONS,
    RATING_DIMENSIONS,
    UNITS,
    QuantityError,
    from_si,
    to_si,
    unit_for,
)


class Quantity(BaseModel):
    """A value in the SI base unit of its dimension (or a rating), with what it was read from."""

    model_config = ConfigDict(frozen=True)

    value: float
    value_max: float | None = None
    dimension: str
    unit: str = ""
    original: str = ""
    rating: str | None = None

    @property
    def lo(self) -> float:
        return self.value

    @property
    def hi(self) -> float:
        return self.value if self.value_max is None else self.value_max

    def in_unit(self, unit: str) -> float:
        """The (low) value expressed in ``unit``."""
        return from_si(self.value, unit)

    def display(self) -> str:
        """Human text in the display unit: "200 N·m", "IP66", "6–10 bar"."""
        if self.rating is not None:
            return self.rating
        if self.dimension == "number":
            return (
                _fmt(self.value) if self.value_max is None else f"{_fmt(self.value)}–{_fmt(self.value_max)}"
            )
        unit = self.unit or DIMENSIONS[self.dimension][1]
        lo = _fmt(from_si(self.value, unit))
        if self.value_max is not None and not math.isclose(self.value_max, self.value):
            return f"{lo}–{_fmt(from_si(self.value_max, unit))} {unit}"
        return f"{lo} {unit}"

    def __str__(self) -> str:
        return self.display()


def _fmt(x: float) -> str:
    if x == 0:
        return "0"
    if not math.isfinite(x):
        return str(x)  # "inf", "nan": never a catalog value, but never an OverflowError either
    if abs(x) >= 1e6 or abs(x) < 1e-4:
        return f"{x:.4g}"
    r = round(x, max(0, 6 - math.floor(math.log10(abs(x))) - 1))
    text = f"{r:.6f}".rstrip("0").rstrip(".")
    return text if text not in ("-0", "") else "0"


# Every variable-length piece of the patterns below has a bound, so one match attempt costs
# a constant number of steps and a scan of n characters O(n) (issue 19: unbounded \d+ made a
# run of n digits cost O(n²)). A number has at most MAX_DIGITS digits before and after its
# decimal mark; a longer digit run is not a quantity (and never an overflowing float).
MAX_DIGITS = 18
_SP = r"\s{0,4}"  # optional space inside a quantity ("6 - 10 bar", "20 °C")
_NUM = rf"[-+−]?\d{{1,{MAX_DIGITS}}}+(?:[.,]\d{{1,{MAX_DIGITS}}}+)?"
_RANGE_SEP = rf"{_SP}(?:\.\.\.?|…|–|—|-|/|to|bis){_SP}"
# Largest magnitude of a catalog value in SI units: beyond any real quantity, far from a float's
# overflow. Ingest refuses more; lookups read a stored value beyond it as no number (issue 19).
MAX_MAGNITUDE = 1e15
# Most quantities and ratings read from one text (a longer list is not a buyer's question).
MAX_EXTRACTED = 200


@cache
def _unit_alternation(strict: bool) -> str:
    spellings = [s for s in UNITS if strict or s not in _STRICT_ONLY]
    spellings.sort(key=len, reverse=True)
    return "|".join(re.escape(s) for s in spellings)


@cache
def _quantity_re(strict: bool) -> re.Pattern[str]:
    units = _unit_alternation(strict)
    tail = rf"(?:{_SP}(?:AC/DC|AC|DC|a\.c\.|d\.c\.|~)(?![A-Za-z]))?"
    # (?<![0-9]): never start inside a digit run (a start there could only be skipped later).
    return re.compile(
        rf"(?<![0-9])(?P<lo>{_NUM})(?:(?:{_SP}(?P<u1>{units}))?(?P<sep>{_RANGE_SEP})(?P<hi>{_NUM}))?"
        rf"{_SP}(?P<unit>{units})(?![A-Za-z0-9²³])(?P<tail>{tail})"
    )


def _num(text: str) -> float:
    return float(text.replace("−", "-").replace(",", "."))


def _quantity_from_match(m: re.Match[str], original: str) -> Quantity:
    unit = unit_for(m.group("unit"))
    lo = _num(m.group("lo"))
    lo_unit = unit_for(m.group("u1")) if m.group("u1") else unit
    if lo_unit.dimension != unit.dimension:
        raise QuantityError(original, f"range mixes {lo_unit.dimension} and {unit.dimension}")
    lo_si = lo * lo_unit.factor + lo_unit.offset
    hi_si = None
    if m.group("hi") is not None:
        hi_si = _num(m.group("hi")) * unit.factor + unit.offset
        if hi_si < lo_si:
            lo_si, hi_si = hi_si, lo_si
    display = DIMENSIONS[unit.dimension][1]
    if unit.dimension == "power" and max(lo_si, hi_si or lo_si) < 1000:
        display = "W"
    return Quantity(value=lo_si, value_max=hi_si, dimension=unit.dimension, unit=display, original=original)


def _rating_quantity(text: str) -> Quantity | None:
    t = text.strip()
    if _IP_RE.fullmatch(t):
        ip = parse_ip(t)
        return Quantity(value=ip.ordinal, dimension="ip", rating=ip.code, original=text)
    if _NEMA_RE.fullmatch(t):
        nema = parse_nema(t)
        return Quantity(
            value=float(_NEMA_ORDER.index(nema)), dimension="nema", rating=f"NEMA {nema}", original=text
        )
    if _ATEX_FIND_RE.fullmatch(t):
        atex = parse_atex(t)
        return Quantity(value=atex.ordinal, dimension="atex", rating=atex.text, original=text)
    return None


def parse_quantity(text: str, *, dimension: str | None = None) -> Quantity:
    """Read one quantity or rating ("0.2 kN·m", "6 bar", "-20...+80 °C", "IP66", "NEMA 4X").

    With ``dimension`` a bare number is read in that dimension's display unit, and a
    rating dimension ("ip", "nema", "atex") reads its own short forms ("65", "4X", "2G").
    """
    t = text.strip()
    if not t:
        raise QuantityError(text, "empty value")
    if dimension in RATING_DIMENSIONS:
        return rating_quantity(t, dimension)
    rated = _rating_quantity(t)
    if rated is not None:
        if dimension and rated.dimension != dimension:
            raise QuantityError(text, f"is a {rated.dimension} rating, not {dimension}")
        return rated
    m = _quantity_re(True).fullmatch(t)
    if m:
        q = _quantity_from_match(m, text)
        if dimension and q.dimension != dimension:
            raise QuantityError(text, f"is {q.dimension}, expected {dimension}")
        return q
    bare = re.fullmatch(rf"(?P<lo>{_NUM})(?:{_RANGE_SEP}(?P<hi>{_NUM}))?", t)
    if bare and dimension:
        lo = _num(bare.group("lo"))
        hi = _num(bare.group("hi")) if bare.group("hi") else None
        if dimension == "number":
            return Quantity(value=lo, value_max=hi, dimension="number", original=text)
        unit = DIMENSIONS[dimension][1]
        lo_si, hi_si = to_si(lo, unit), (to_si(hi, unit) if hi is not None else None)
        if hi_si is not None and hi_si < lo_si:
            lo_si, hi_si = hi_si, lo_si
        return Quantity(value=lo_si, value_max=hi_si, dimension=dimension, unit=unit, original=text)
    if bare:
        raise QuantityError(text, "has no unit")
    unit_part = re.sub(rf"^\s*{_NUM}(?:{_RANGE_SEP}{_NUM})?\s*", "", t)
    if unit_part != t and unit_part:
        raise QuantityError(text, f"unknown unit {unit_part!r}")
    raise QuantityError(text)


def rating_quantity(text: str, dimension: str) -> Quantity:
    """Read a rating of a known kind, accepting its short forms ("65", "4X", "2G", "zone 1")."""
    t = text.strip()
    if dimension == "ip":
        ip = parse_ip(t)
        return Quantity(value=ip.ordinal, dimension="ip", rating=ip.code, original=text)
    if dimension == "nema":
        nema = parse_nema(t)
        return Quantity(
            value=float(_NEMA_ORDER.index(nema)), dimension="nema", rating=f"NEMA {nema}", original=text
        )
    if dimension == "atex":
        atex = parse_atex(t)
        return Quantity(value=atex.ordinal, dimension="atex", rating=atex.text, original=text)
    raise QuantityError(text, f"unknown rating kind {dimension!r}")


def extract_quantities(
    free_text: str, *, limit: int = MAX_EXTRACTED
) -> list[tuple[tuple[int, int], Quantity]]:
    """Find quantities and ratings in prose ("400 V", "IP65", "180 Nm", "20 l/min", "80 °C").

    Linear in the length of the text (bounded patterns, see MAX_DIGITS); at most ``limit``
    items, the first ones in the text.
    """
    found: list[tuple[tuple[int, int], Quantity]] = []
    starts: list[int] = []  # spans taken so far, sorted and disjoint: starts and ends in step
    ends: list[int] = []

    def take(a: int, b: int) -> bool:
        """Claim [a, b) unless it overlaps a span already taken."""
        i = bisect.bisect_left(starts, b)  # spans before i start before b
        if i and ends[i - 1] > a:  # the latest of them ends last (disjoint, sorted)
            return False
        starts.insert(i, a)
        ends.insert(i, b)
        return True

    for pattern in (_ATEX_FIND_RE, _IP_RE, _NEMA_RE):
        for m in pattern.finditer(free_text):
            if len(found) >= limit:
                break
            q = _rating_quantity(m.group(0))
            if q is not None and take(*m.span()):
                found.append((m.span(), q))
    for m in _quantity_re(False).finditer(free_text):
        if len(found) >= limit:
            break
        a, b = m.span()
        if a > 0 and (free_text[a - 1].isalnum() or free_text[a - 1] in "._"):
            continue  # "M12", "GX-220": a number inside a designation
        try:
            q = _quantity_from_match(m, free_text[a:b])
        except QuantityError:
            continue
        if take(a, b):
            found.append(((a, b), q))
    found.sort(key=lambda item: item[0])
    return found


def compare(actual: Quantity, op: str, wanted: Quantity) -> bool | None:
    """Whether ``actual op wanted`` holds; None when the two cannot be compared.

    A range meets ">=" when its top does and "<=" when its bottom does; "=" means the
    wanted value lies in the range (1 % tolerance for measured values).
    """
    return compare_values(actual.dimension, actual.lo, actual.hi, actual.rating, op, wanted)


def compare_values(
    dimension: str, lo: float, hi: float, rating: str | None, op: str, wanted: Quantity
) -> bool | None:
    """``compare`` on a value given as its parts (no Quantity built: the catalog checks
    hundreds of stored values per lookup)."""
    if dimension != wanted.dimension:
        return None
    if dimension == "ip":
        have, need = parse_ip(rating or ""), parse_ip(wanted.rating or "")
        if op in (">=", ">"):
            return have.satisfies(need) and (op == ">=" or have != need)
        if op in ("=", "=="):
            return have.code == need.code or (have.satisfies(need) and need.satisfies(have))
        if op == "!=":
            return have.code != need.code
        if op in ("<=", "<"):
            return need.satisfies(have) and (op == "<=" or have != need)
        return None
    if dimension == "nema":
        have_n, need_n = parse_nema(rating or ""), parse_nema(wanted.rating or "")
        if op in (">=", "=", "=="):
            return nema_satisfies(have_n, need_n)
        if op == "!=":
            return have_n != need_n
        if op == "<=":
            return nema_satisfies(need_n, have_n)
        return None
    if dimension == "atex":
        have_a, need_a = parse_atex(rating or ""), parse_atex(wanted.rating or "")
        if op in (">=", "=", "==", ":"):
            return have_a.satisfies(need_a)
        if op == "!=":
            return not have_a.satisfies(need_a)
        return None
    tol = 1e-9 + 0.01 * max(abs(wanted.lo), abs(wanted.hi))
    if dimension == "temperature":
        tol = 0.5  # half a kelvin
    if op == ">=":
        return hi >= wanted.lo - 1e-9 * max(1.0, abs(wanted.lo))
    # Conversions leave rounding dust (1.001 kN·m is 1000.9999999 N·m): compare with a
    # relative epsilon so equal values are equal whichever unit they were written in.
    if op == ">":
        return hi > wanted.lo + 1e-9 * max(1.0, abs(wanted.lo))
    if op == "<=":
        return lo <= wanted.hi + 1e-9 * max(1.0, abs(wanted.hi))
    if op == "<":
        return lo < wanted.hi - 1e-9 * max(1.0, abs(wanted.hi))
    if op in ("=", "=="):
        if wanted.value_max is not None:  # wanted a range: actual must overlap it
            return hi >= wanted.lo - tol and lo <= wanted.hi + tol
        return lo - tol <= wanted.value <= hi + tol
    if op == "!=":
        return not (lo - tol <= wanted.value <= hi + tol)
    return None
