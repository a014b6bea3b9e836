"""Quantities, ratings and constraints, read from the way people and datasheets write them.

Every quantity is kept in the SI base unit of its dimension, so "torque above 180 Nm"
compares correctly with "0.2 kN·m". IP ratings, NEMA enclosure types and ATEX/IECEx
markings are ratings, not numbers: they compare by what they protect against.
No I/O here; the escalation engine calls these on buyer text.
"""

from __future__ import annotations

import bisect
import math
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:  # pragma: no cover
    from warmline.domain.packet import Constraint as PacketConstraint


class QuantityError(ValueError):
    """Text that is not a quantity this module understands."""

    def __init__(self, text: str, reason: str = "not a quantity with a known unit") -> None:
        self.text = text
        self.reason = reason
        super().__init__(f"{text!r}: {reason}")


class ConstraintError(ValueError):
    """A constraint that cannot be read; ``part`` is the piece not understood."""

    def __init__(self, text: str, part: str, reason: str) -> None:
        self.text = text
        self.part = part
        self.reason = reason
        super().__init__(f"cannot read constraint {text!r}: {part!r} {reason}")


# --- units -----------------------------------------------------------------------------

# dimension -> (SI base unit label, display unit)
DIMENSIONS: dict[str, tuple[str, str]] = {
    "voltage": ("V", "V"),
    "current": ("A", "A"),
    "power": ("W", "kW"),
    "torque": ("N·m", "N·m"),
    "force": ("N", "kN"),
    "pressure": ("Pa", "bar"),
    "temperature": ("K", "°C"),
    "flow": ("m³/s", "l/min"),
    "length": ("m", "mm"),
    "area": ("m²", "mm²"),
    "mass": ("kg", "kg"),
    "speed": ("1/s", "r/min"),
    "number": ("", ""),
}
RATING_DIMENSIONS = ("ip", "nema", "atex")


@dataclass(frozen=True, slots=True)
class Unit:
    symbol: str  # canonical spelling
    dimension: str
    factor: float  # SI = value * factor + offset
    offset: float = 0.0


_UNIT_SPELLINGS: list[tuple[tuple[str, ...], Unit]] = [
    (("V", "v", "volt", "volts", "Volt"), Unit("V", "voltage", 1.0)),
    (("kV", "kv"), Unit("kV", "voltage", 1e3)),
    (("mV",), Unit("mV", "voltage", 1e-3)),
    (("A", "amp", "amps", "ampere", "amperes"), Unit("A", "current", 1.0)),
    (("mA",), Unit("mA", "current", 1e-3)),
    (("kA",), Unit("kA", "current", 1e3)),
    (("W", "watt", "watts"), Unit("W", "power", 1.0)),
    (("kW", "kw"), Unit("kW", "power", 1e3)),
    (("MW",), Unit("MW", "power", 1e6)),
    (("hp", "HP"), Unit("hp", "power", 745.699872)),
    (("N·m", "Nm", "N.m", "N*m", "N-m", "N m", "N⋅m", "nm", "NM"), Unit("N·m", "torque", 1.0)),
    (("kN·m", "kNm", "kN.m", "kN*m", "kN-m", "kN m", "kN⋅m", "knm"), Unit("kN·m", "torque", 1e3)),
    (
        ("lbf·ft", "lb-ft", "lbf-ft", "lbft", "ft-lb", "ft·lbf", "ft-lbf"),
        Unit("lbf·ft", "torque", 1.3558179483),
    ),
    (("N",), Unit("N", "force", 1.0)),
    (("kN", "kn"), Unit("kN", "force", 1e3)),
    (("Pa",), Unit("Pa", "pressure", 1.0)),
    (("kPa", "kpa"), Unit("kPa", "pressure", 1e3)),
    (("MPa", "mpa"), Unit("MPa", "pressure", 1e6)),
    (("bar", "Bar", "BAR"), Unit("bar", "pressure", 1e5)),
    (("mbar",), Unit("mbar", "pressure", 1e2)),
    (("psi", "PSI"), Unit("psi", "pressure", 6894.757293168)),
    (("°C", "ºC", "degC", "deg C", "℃", "C"), Unit("°C", "temperature", 1.0, 273.15)),
    (
        ("°F", "ºF", "degF", "deg F", "℉", "F"),
        Unit("°F", "temperature", 5.0 / 9.0, 273.15 - 32.0 * 5.0 / 9.0),
    ),
    (("K",), Unit("K", "temperature", 1.0)),
    (("l/min", "L/min", "lpm", "LPM", "l/mn", "ltr/min"), Unit("l/min", "flow", 1e-3 / 60.0)),
    (("l/s", "L/s"), Unit("l/s", "flow", 1e-3)),
    (("l/h", "L/h"), Unit("l/h", "flow", 1e-3 / 3600.0)),
    (("m³/h", "m3/h", "m^3/h", "cbm/h"), Unit("m³/h", "flow", 1.0 / 3600.0)),
    (("m³/s", "m3/s"), Unit("m³/s", "flow", 1.0)),
    (("gpm", "GPM", "US gpm"), Unit("gpm", "flow", 3.785411784e-3 / 60.0)),
    (("mm",), Unit("mm", "length", 1e-3)),
    (("cm",), Unit("cm", "length", 1e-2)),
    (("m",), Unit("m", "length", 1.0)),
    (("µm", "um", "μm"), Unit("µm", "length", 1e-6)),
    (("in", "inch", "inches", '"', "″"), Unit("in", "length", 0.0254)),
    (("ft", "feet"), Unit("ft", "length", 0.3048)),
    (("mm²", "mm2", "mm^2", "sq mm", "sqmm"), Unit("mm²", "area", 1e-6)),
    (("kg", "Kg", "KG"), Unit("kg", "mass", 1.0)),
    (("g",), Unit("g", "mass", 1e-3)),
    (("t",), Unit("t", "mass", 1e3)),
    (("lb", "lbs"), Unit("lb", "mass", 0.45359237)),
    (
        ("r/min", "rpm", "RPM", "min-1", "min⁻¹", "1/min", "rev/min", "U/min", "r.p.m."),
        Unit("r/min", "speed", 1 / 60),
    ),
    (("r/s", "rps", "1/s", "rev/s"), Unit("r/s", "speed", 1.0)),
]
# Spellings too ambiguous to pick out of free text ("80 C", "3 t", "in").
_STRICT_ONLY = {"C", "F", "K", "t", "in", '"', "″", "g", "N m", "nm", "NM", "v", "kn", "kv"}

UNITS: dict[str, Unit] = {}
for _spellings, _unit in _UNIT_SPELLINGS:
    for _s in _spellings:
        UNITS[_s] = _unit
DISPLAY_UNITS: dict[str, Unit] = {u.symbol: u for _, u in _UNIT_SPELLINGS}


def unit_for(symbol: str) -> Unit:
    """The unit spelled ``symbol`` (any accepted spelling); KeyError if unknown."""
    symbol = symbol.strip()
    if symbol in UNITS:
        return UNITS[symbol]
    squeezed = symbol.replace(" ", "")
    if squeezed in UNITS:
        return UNITS[squeezed]
    raise KeyError(symbol)


def to_si(value: float, unit: str) -> float:
    """``value`` in ``unit`` expressed in the SI base unit of its dimension."""
    u = unit_for(unit)
    return value * u.factor + u.offset


def from_si(value_si: float, unit: str) -> float:
    """An SI value expressed in ``unit``."""
    u = unit_for(unit)
    return (value_si - u.offset) / u.factor


# --- ratings ---------------------------------------------------------------------------

_IP_RE = re.compile(r"\bIP\s?([0-6X])([0-9X])(K|M|S|W)?\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class IPRating:
    """IEC 60529 code: first digit solids (0-6), second liquids (0-9); X = not tested."""

    solids: int | None
    liquids: int | None
    suffix: str = ""

    @property
    def code(self) -> str:
        s = "X" if self.solids is None else str(self.solids)
        w = "X" if self.liquids is None else str(self.liquids)
        return f"IP{s}{w}{self.suffix}"

    @property
    def ordinal(self) -> float:
        """A number that sorts ratings (used for coarse database prefilters)."""
        return (self.solids or 0) * 10 + (self.liquids or 0)

    def satisfies(self, required: IPRating) -> bool:
        """Each tested digit at least as high as required (IP66 satisfies IP65, IP54 does not)."""
        for have, need in ((self.solids, required.solids), (self.liquids, required.liquids)):
            if need is None:
                continue
            if have is None or have < need:
                return False
        return True


@lru_cache(maxsize=4096)  # pure, immutable result; compared per candidate row
def parse_ip(text: str) -> IPRating:
    """Read "IP66", "ip 65", "IPX7" (also a bare "65")."""
    t = text.strip()
    if re.fullmatch(r"[0-6X][0-9X]", t, re.IGNORECASE):
        t = "IP" + t
    m = _IP_RE.fullmatch(t)
    if not m:
        raise QuantityError(text, "not an IP rating (IP followed by two digits, e.g. IP65)")
    s, w, suffix = m.group(1).upper(), m.group(2).upper(), (m.group(3) or "").upper()
    return IPRating(None if s == "X" else int(s), None if w == "X" else int(w), suffix)


# NEMA 250 enclosure types, and which other types each one also meets (a conservative reading).
_NEMA_MEETS: dict[str, set[str]] = {
    "1": {"1"},
    "2": {"1", "2"},
    "3": {"1", "2", "3", "3S"},
    "3R": {"1", "2", "3R"},
    "3S": {"1", "2", "3", "3S"},
    "3X": {"1", "2", "3", "3S", "3X"},
    "3RX": {"1", "2", "3R", "3RX"},
    "3SX": {"1", "2", "3", "3S", "3X", "3SX"},
    "4": {"1", "2", "3", "3R", "3S", "4", "5", "12", "13"},
    "4X": {"1", "2", "3", "3R", "3S", "3X", "3RX", "4", "4X", "5", "12", "13"},
    "5": {"1", "2", "5"},
    "6": {"1", "2", "3", "3R", "3S", "4", "5", "6", "12", "13"},
    "6P": {"1", "2", "3", "3R", "3S", "4", "4X", "5", "6", "6P", "12", "13"},
    "12": {"1", "2", "5", "12"},
    "12K": {"1", "2", "5", "12", "12K"},
    "13": {"1", "2", "5", "12", "13"},
}
_NEMA_ORDER = ["1", "2", "5", "12", "12K", "13", "3R", "3", "3S", "3RX", "3X", "3SX", "4", "4X", "6", "6P"]
_NEMA_RE = re.compile(
    r"\bNEMA\s{0,3}(?:Type\s{0,3})?(3RX|3SX|3R|3S|3X|4X|6P|12K|12|13|[1-6])\b", re.IGNORECASE
)


@lru_cache(maxsize=4096)  # pure, immutable result; compared per candidate row
def parse_nema(text: str) -> str:
    """Read "NEMA 4X", "NEMA Type 12", or a bare "4X"; returns the type ("4X")."""
    t = text.strip().upper()
    m = _NEMA_RE.fullmatch(t)
    if m:
        return m.group(1).upper()
    t = re.sub(r"^TYPE\s*", "", t)
    if t in _NEMA_MEETS:
        return t
    raise QuantityError(text, "not a NEMA enclosure type (1, 2, 3, 3R, 3S, 4, 4X, 5, 6, 6P, 12, 12K, 13)")


def nema_satisfies(actual: str, required: str) -> bool:
    """Whether an enclosure of type ``actual`` also meets type ``required`` (4X meets 4 and 12)."""
    return required.upper() in _NEMA_MEETS.get(actual.upper(), {actual.upper()})


@dataclass(frozen=True, slots=True)
class AtexMarking:
    """An ATEX/IECEx marking, e.g. "II 2G Ex db IIC T4 Gb"."""

    group: str | None = None  # "II" (surface) or "I" (mines)
    category: int | None = None  # 1 (zone 0/20) .. 3 (zone 2/22); lower is better
    atmosphere: str | None = None  # "G", "D" or "GD"
    protection: str | None = None  # "db", "h", "ia" ...
    gas_group: str | None = None  # "IIA" < "IIB" < "IIC" (IIIA..IIIC for dust)
    temp_class: int | None = None  # T1..T6; higher is cooler, i.e. better
    epl: str | None = None  # "Ga", "Gb", "Gc", "Da"...
    text: str = ""

    @property
    def ordinal(self) -> float:
        """Higher is more protective (category 1 -> 3, 2 -> 2, 3 -> 1, unknown -> 0.5)."""
        return 0.5 if self.category is None else float(4 - self.category)

    def satisfies(self, required: AtexMarking) -> bool:
        """Every element the requirement names is met or exceeded by this marking."""
        if required.category is not None and (self.category is None or self.category > required.category):
            return False
        if required.atmosphere:
            have = self.atmosphere or ""
            if not set(required.atmosphere) <= set(have):
                return False
        if required.gas_group:
            if not self.gas_group or self.gas_group[:-1] != required.gas_group[:-1]:
                return False
            if self.gas_group[-1] < required.gas_group[-1]:
                return False
        if required.temp_class is not None and (
            self.temp_class is None or self.temp_class < required.temp_class
        ):
            return False
        return not (
            required.epl and (not self.epl or self.epl[0] != required.epl[0] or self.epl[1] > required.epl[1])
        )


_ATEX_CAT_RE = re.compile(r"\b(?:(II|I)\s*)?([123])\s*(GD|G|D)\b")
_ATEX_GROUP_RE = re.compile(r"\b(III?[ABC])\b")
_ATEX_T_RE = re.compile(r"\bT([1-6])\b")
_ATEX_EPL_RE = re.compile(r"\b([GD][abc])\b")
_ATEX_PROT_RE = re.compile(r"\bEx\s+([a-z]{1,3}[A-Z]?)\b")
_ATEX_FIND_RE = re.compile(
    r"(?:⟨?Ex⟩?\s{1,3})?\bII\s{0,3}[123]\s{0,3}(?:GD|G|D)\b"
    r"(?:[ \t]{0,3}(?:Ex\s{1,3}[a-z]{1,3}[A-Z]?|III?[ABC]|T[1-6]|[GD][abc]|X)\b){0,12}"
    r"|\bEx\s{1,3}[a-z]{1,3}[A-Z]?\s{1,3}III?[ABC](?:[ \t]{1,3}(?:T[1-6]|[GD][abc])\b){0,6}"
)


@lru_cache(maxsize=4096)  # pure, immutable result; compared per candidate row
def parse_atex(text: str) -> AtexMarking:
    """Read an ATEX/IECEx marking ("II 2G Ex h IIC T4 Gb", "2G", "Ex db IIB T3 Gb", "zone 1")."""
    t = text.strip()
    if not t:
        raise QuantityError(text, "empty ATEX marking")
    zone = re.fullmatch(r"(?i)zone\s*(0|1|2|20|21|22)", t)
    if zone:
        z = int(zone.group(1))
        return AtexMarking(group="II", category=(z % 10) + 1, atmosphere="D" if z >= 20 else "G", text=t)
    cat = _ATEX_CAT_RE.search(t)
    group_m = _ATEX_GROUP_RE.search(t)
    temp = _ATEX_T_RE.search(t)
    epl = _ATEX_EPL_RE.search(t)
    prot = _ATEX_PROT_RE.search(t)
    if not (cat or group_m or epl or prot or temp):
        raise QuantityError(text, "not an ATEX/IECEx marking (e.g. 'II 2G Ex h IIC T4 Gb' or '2G')")
    return AtexMarking(
        group=(cat.group(1) or "II") if cat else None,
        category=int(cat.group(2)) if cat else None,
        atmosphere=cat.group(3) if cat else None,
        protection=prot.group(1) if prot else None,
        gas_group=group_m.group(1) if group_m else None,
        temp_class=int(temp.group(1)) if temp else None,
        epl=epl.group(1) if epl else None,
        text=t,
    )


def atex_allows_zone(marking: AtexMarking, zone: int) -> bool:
    """Whether equipment with this marking may be used in the given zone (0/1/2 gas, 20/21/22 dust)."""
    return marking.satisfies(parse_atex(f"zone {zone}"))


# --- quantities ------------------------------------------------------------------------


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


# --- attributes and constraints --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AttributeSpec:
    key: str
    label: str
    dimension: str | None  # None: free text
    unit: str = ""  # display unit ("" = dimension default)
    aliases: tuple[str, ...] = ()


ATTRIBUTES: dict[str, AttributeSpec] = {
    a.key: a
    for a in [
        AttributeSpec(
            "voltage",
            "Voltage",
            "voltage",
            "V",
            ("rated voltage", "supply voltage", "motor voltage", "operating voltage", "coil voltage", "u"),
        ),
        AttributeSpec(
            "current", "Current", "current", "A", ("rated current", "max current", "current rating")
        ),
        AttributeSpec("power", "Power", "power", "kW", ("rated power", "motor power", "output power")),
        AttributeSpec(
            "torque",
            "Torque",
            "torque",
            "N·m",
            ("rated torque", "output torque", "nominal torque", "max torque", "t2"),
        ),
        AttributeSpec(
            "pressure",
            "Pressure",
            "pressure",
            "bar",
            (
                "max pressure",
                "operating pressure",
                "working pressure",
                "pressure rating",
                "max. pressure",
                "rated pressure",
            ),
        ),
        AttributeSpec(
            "temperature",
            "Temperature",
            "temperature",
            "°C",
            (
                "operating temperature",
                "ambient temperature",
                "fluid temperature",
                "max temperature",
                "medium temperature",
                "temp",
            ),
        ),
        AttributeSpec(
            "flow", "Flow", "flow", "l/min", ("flow rate", "max flow", "nominal flow", "capacity", "q")
        ),
        AttributeSpec("head", "Head", "length", "m", ("max head", "delivery head", "h")),
        AttributeSpec(
            "speed", "Speed", "speed", "r/min", ("output speed", "rated speed", "n2", "rotational speed")
        ),
        AttributeSpec("ratio", "Ratio", "number", "", ("gear ratio", "reduction ratio", "i")),
        AttributeSpec("bore", "Bore", "length", "mm", ("bore diameter", "inner diameter", "d")),
        AttributeSpec("outer_diameter", "Outer diameter", "length", "mm", ("outside diameter", "od")),
        AttributeSpec("width", "Width", "length", "mm", ("b",)),
        AttributeSpec(
            "tube_od", "Tube OD", "length", "mm", ("tube outside diameter", "tube od", "tube diameter")
        ),
        AttributeSpec("length", "Length", "length", "mm", ("cable length", "overall length")),
        AttributeSpec("cross_section", "Cross-section", "area", "mm²", ("conductor cross-section", "csa")),
        AttributeSpec("sensing_range", "Sensing range", "length", "mm", ("sensing distance", "rated range")),
        AttributeSpec(
            "dynamic_load", "Dynamic load rating", "force", "kN", ("c", "basic dynamic load rating")
        ),
        AttributeSpec("static_load", "Static load rating", "force", "kN", ("c0", "basic static load rating")),
        AttributeSpec("fatigue_load_limit", "Fatigue load limit", "force", "kN", ("pu",)),
        AttributeSpec("reference_speed", "Reference speed", "speed", "r/min", ()),
        AttributeSpec("limiting_speed", "Limiting speed", "speed", "r/min", ("speed limit",)),
        AttributeSpec("mass", "Mass", "mass", "kg", ("weight", "net weight")),
        AttributeSpec(
            "ip",
            "IP rating",
            "ip",
            "",
            ("ip rating", "protection", "degree of protection", "ingress protection", "enclosure rating"),
        ),
        AttributeSpec("nema", "NEMA type", "nema", "", ("nema type", "enclosure type")),
        AttributeSpec(
            "atex",
            "ATEX marking",
            "atex",
            "",
            ("atex marking", "ex marking", "iecex", "explosion protection", "zone"),
        ),
        AttributeSpec("thread", "Thread", None, "", ("port", "thread size", "connection")),
        AttributeSpec(
            "material", "Material", None, "", ("body material", "sheath", "jacket", "housing material")
        ),
        AttributeSpec("mounting", "Mounting", None, "", ("mounting pattern", "mounting type", "flange")),
        AttributeSpec("washdown", "Washdown rated", None, "", ("washdown rated", "hygienic design")),
        AttributeSpec("poles", "Poles", "number", "", ("contacts", "pins")),
        AttributeSpec("medium", "Medium", None, "", ("fluid", "media")),
        AttributeSpec("output", "Output", None, "", ("output type", "signal")),
        AttributeSpec("seal", "Seal", None, "", ("sealing", "shield")),
    ]
}
_ALIASES: dict[str, str] = {}
for _a in ATTRIBUTES.values():
    _ALIASES[_a.key] = _a.key
    _ALIASES[_a.key.replace("_", " ")] = _a.key
    _ALIASES[_a.label.lower()] = _a.key
    for _al in _a.aliases:
        _ALIASES.setdefault(_al, _a.key)
# Constraint words that name a product field rather than an attribute.
PRODUCT_FIELDS = ("family", "status", "manufacturer", "sku", "name")
# dimension -> the attribute a bare value of that dimension constrains ("400V" -> voltage)
DEFAULT_ATTRIBUTE = {
    "voltage": "voltage",
    "current": "current",
    "power": "power",
    "torque": "torque",
    "pressure": "pressure",
    "temperature": "temperature",
    "flow": "flow",
    "speed": "speed",
    "mass": "mass",
    "ip": "ip",
    "nema": "nema",
    "atex": "atex",
    "area": "cross_section",
}


def attribute_key(label: str) -> str | None:
    """The canonical attribute key for a label ("Rated torque" -> "torque"), or None."""
    t = re.sub(r"[\s_]+", " ", label.strip().lower()).strip(" :.*")
    for opening, closing in ("()", "[]"):  # "Torque (N·m)", "Bore [mm]": the unit note goes
        if t.endswith(closing) and opening in t:
            t = t[: t.index(opening)].rstrip()
    return _ALIASES.get(t)


def attribute_spec(key: str) -> AttributeSpec | None:
    return ATTRIBUTES.get(key)


class Constraint(BaseModel):
    """One requirement: attribute, operator and value ("torque >= 180 N·m", "family = gearbox")."""

    model_config = ConfigDict(frozen=True)

    attribute: str
    op: str
    value: Quantity | None = None
    text: str | None = None
    original: str = ""

    @property
    def numeric(self) -> bool:
        return self.value is not None

    def describe(self) -> str:
        """Readable form: "torque ≥ 180 N·m", "ip ≥ IP65", "washdown = yes"."""
        sym = {">=": "≥", "<=": "≤", "!=": "≠", "==": "="}.get(self.op, self.op)
        shown = self.value.display() if self.value is not None else (self.text or "")
        if self.op == "exists":
            return f"{self.attribute} present"
        return f"{self.attribute} {sym} {shown}"

    def __str__(self) -> str:
        return self.describe()


_OPS = {
    ">=": ">=",
    "=>": ">=",
    "≥": ">=",
    "<=": "<=",
    "=<": "<=",
    "≤": "<=",
    ">": ">",
    "<": "<",
    "!=": "!=",
    "≠": "!=",
    "==": "=",
    "=": "=",
    ":": "=",
}
_WORD_OPS = [
    (r"at least|min(?:imum)?\.?|no less than|not less than|from", ">="),
    (r"above|over|more than|greater than|higher than|exceeding", ">"),
    (r"at most|max(?:imum)?\.?|up to|no more than|not more than|not above", "<="),
    (r"below|under|less than|lower than", "<"),
    (r"equal to|of|is|exactly", "="),
]
# Bounded (an attribute name is at most 61 characters) and matched on stripped text, so a
# constraint is read in time linear in its length; longer texts are refused up front.
MAX_CONSTRAINT_CHARS = 300
_CONSTRAINT_RE = re.compile(
    r"^(?P<attr>[A-Za-z_][A-Za-z0-9_ .\-]{0,60}?)\s{0,4}(?P<op>>=|=>|<=|=<|!=|==|≥|≤|≠|[=:<>])(?P<val>.*)$",
    re.DOTALL,
)
_WORD_CONSTRAINT_RE = re.compile(
    r"^(?P<attr>[A-Za-z_][A-Za-z0-9_ .\-]{0,60}?)\s{1,4}(?P<op>"
    + "|".join(w for w, _ in _WORD_OPS)
    + r")\s{1,4}(?P<val>\S.*)$",
    re.IGNORECASE | re.DOTALL,
)
_BOOL_TEXT = {
    "yes": "yes",
    "true": "yes",
    "y": "yes",
    "1": "yes",
    "no": "no",
    "false": "no",
    "n": "no",
    "0": "no",
}


def is_plain_text(text: str) -> bool:
    """No NUL and no lone surrogate: text every database stores and every catalog value can be."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _normalise_attr(raw: str, text: str) -> str:
    key = attribute_key(raw)
    if key:
        return key
    low = raw.strip().lower()
    if low in PRODUCT_FIELDS:
        return low
    if re.fullmatch(r"[a-z][a-z0-9_]*", low.replace(" ", "_")):
        return low.replace(" ", "_")  # an attribute we do not know yet: kept as text
    raise ConstraintError(text, raw, "is not an attribute name")


def parse_constraint(text: str) -> Constraint:
    """Read "torque>=180Nm", "ip>=65", "voltage:400V", "IP65", "torque above 180 Nm", "family:gearbox"."""
    original = text
    t = text.strip()
    if not t:
        raise ConstraintError(text, text, "is empty")
    if len(t) > MAX_CONSTRAINT_CHARS:
        raise ConstraintError(text, t[:40] + "…", f"is longer than {MAX_CONSTRAINT_CHARS} characters")
    if not is_plain_text(t):
        raise ConstraintError(text, t, "contains a NUL character or a lone surrogate (not text)")
    attr_raw, op, val = None, None, None
    m = _CONSTRAINT_RE.match(t)
    if m and not re.fullmatch(rf"{_NUM}.*", m.group("attr"), re.DOTALL):
        attr_raw, op, val = m.group("attr"), _OPS[m.group("op")], m.group("val").strip()
    else:
        wm = _WORD_CONSTRAINT_RE.match(t)
        if wm:
            for words, word_op in _WORD_OPS:
                if re.fullmatch(words, wm.group("op"), re.IGNORECASE):
                    attr_raw, op, val = wm.group("attr"), word_op, wm.group("val").strip()
                    break
    if attr_raw is None:
        # a bare value: "400V", "IP65", "II 2G", or a bare word flag ("washdown", "atex")
        key = attribute_key(t)
        if key in ("atex",) or t.lower() == "atex":
            return Constraint(attribute="atex", op="exists", original=original)
        if key and ATTRIBUTES[key].dimension is None:
            return Constraint(attribute=key, op="=", text="yes", original=original)
        if key:  # a bare attribute name: the product must state it
            return Constraint(attribute=key, op="exists", original=original)
        try:
            q = parse_quantity(t)
        except QuantityError as exc:
            raise ConstraintError(text, t, "is neither 'attribute op value' nor a value with a unit") from exc
        attr = DEFAULT_ATTRIBUTE.get(q.dimension)
        if attr is None:
            raise ConstraintError(text, t, f"is a {q.dimension}; say which attribute (e.g. bore={t})")
        op = ">=" if q.dimension in RATING_DIMENSIONS else "="
        return Constraint(attribute=attr, op=op, value=q, original=original)

    attr = _normalise_attr(attr_raw, text)
    if attr_raw.strip().lower() == "zone" and val and not val.lower().startswith("zone"):
        val = f"zone {val}"
    if not val:
        raise ConstraintError(text, t, f"has no value after {op!r}")
    if attr in PRODUCT_FIELDS:
        if op not in ("=", "!="):
            raise ConstraintError(text, op, f"cannot compare {attr} (use ':' or '!=')")
        return Constraint(attribute=attr, op=op, text=val.strip().lower(), original=original)
    spec = ATTRIBUTES.get(attr)
    dimension = spec.dimension if spec else None
    if dimension is None:
        # free-text attribute or unknown one: numeric value if it has a unit, else text
        try:
            q = parse_quantity(val)
        except QuantityError:
            if op not in ("=", "!="):
                raise ConstraintError(
                    text, val, f"is not a number with a unit, so {op!r} cannot apply"
                ) from None
            v = val.strip().lower()
            return Constraint(attribute=attr, op=op, text=_BOOL_TEXT.get(v, v), original=original)
        return Constraint(attribute=attr, op=op, value=q, original=original)
    if dimension == "atex" and val.strip().lower() in ("yes", "true", "required", "certified"):
        return Constraint(attribute="atex", op="exists", original=original)
    try:
        q = parse_quantity(val, dimension=dimension)
    except QuantityError as exc:
        bad = _bad_part(val)
        raise ConstraintError(text, bad, f"is not understood as {dimension} ({exc.reason})") from exc
    if spec and spec.unit and q.rating is None and q.dimension not in ("number",):
        q = q.model_copy(update={"unit": spec.unit})
    return Constraint(attribute=attr, op=op, value=q, original=original)


def _bad_part(val: str) -> str:
    """The piece of a value that is not a number (the unit someone mistyped), else the value."""
    rest = re.sub(rf"^\s*{_NUM}(?:{_RANGE_SEP}{_NUM})?\s*", "", val)
    return rest.strip() or val.strip()


def constraint_from_packet(c: PacketConstraint) -> Constraint:
    """A handoff packet's constraint (name, value "> 180", unit "N·m") as a Constraint."""
    value = c.value.strip()
    unit = (c.unit or "").strip()
    m = re.match(r"^(>=|=>|<=|=<|!=|==|≥|≤|≠|[=:<>])\s*(.*)$", value)
    op_text, rest = (m.group(1), m.group(2)) if m else ("", value)
    if unit and rest and not rest.endswith(unit):
        rest = f"{rest} {unit}"
    if not op_text:
        wm = re.match(r"^(" + "|".join(w for w, _ in _WORD_OPS) + r")\s+(.*)$", rest, re.IGNORECASE)
        if wm:
            return parse_constraint(f"{c.name} {wm.group(1)} {wm.group(2)}")
        op_text = ":"
    return parse_constraint(f"{c.name}{op_text}{rest}")
