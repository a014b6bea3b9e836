"""Ratings that are not numbers: IEC 60529 IP codes, NEMA 250 enclosure types, ATEX/IECEx markings.

Each compares by what it protects against (IP66 meets IP65 digit by digit, NEMA 4X meets
4 and 12, "II 2G Ex h IIC T4 Gb" meets zone 1). Patterns that search free text have bounded
repeats (issue 19: linear scans of buyer messages).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from warmline.catalog.unit_table import QuantityError

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
