"""Facts a buyer states in a turn: constraints with units, order quantities, urgency, region, SKUs.

Numbers with units come from the catalog's ``extract_quantities`` (one units parser in
the project); this module adds the comparison words around them ("at least 180 Nm"),
the textual requirements a catalog filter cannot read (fluid, washdown, thread, ...),
and the commercial facts (how many, by when, where).
"""

# ruff: noqa: E501 - plain sentences and regexes read better unbroken

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from warmline.catalog.units import DEFAULT_ATTRIBUTE, extract_quantities
from warmline.catalog.units import Quantity as UnitQuantity
from warmline.domain.packet import Constraint, Quantity
from warmline.escalation.text import PhraseSet, normalize, tokens

# dimension of a parsed quantity -> constraint name (the catalog's attribute keys; a bare
# force in a buyer's message is a bearing load)
_DIMENSION_NAMES = {**DEFAULT_ATTRIBUTE, "force": "load"}

_OP_BEFORE = [
    (re.compile(r"(at least|min(imum)?\.?|no less than|not less than|>=|≥|minimum of)\s*$"), "≥"),
    (re.compile(r"(above|over|more than|greater than|higher than|exceeding|>)\s*$"), ">"),
    (re.compile(r"(at most|max(imum)?\.?|up to|no more than|not more than|<=|≤)\s*$"), "≤"),
    (re.compile(r"(below|under|less than|lower than|<)\s*$"), "<"),
]
_OP_AFTER = [
    (re.compile(r"^\s*(or more|and above|and up|minimum|min\b|\+)"), "≥"),
    (re.compile(r"^\s*(or less|and below|max\b|maximum)"), "≤"),
]

# textual requirements: attribute -> {canonical value: cue phrases}
_TEXT_ATTRIBUTES: dict[str, dict[str, list[str]]] = {
    "medium": {
        "water-glycol": ["water glycol", "water-glycol", "glycol"],
        "coolant": ["coolant", "cutting fluid", "emulsion"],
        "water": ["water", "potable water", "cooling water"],
        "oil": ["oil", "hydraulic oil", "lubricating oil", "thermal oil"],
        "seawater": ["seawater", "sea water", "brine"],
        "chemicals": ["acid", "caustic", "solvent", "chemicals", "chemical"],
        "slurry": ["slurry", "abrasive"],
        "diesel": ["diesel", "fuel"],
    },
    "washdown": {"yes": ["washdown", "wash-down", "wash down", "hosed down", "high-pressure cleaning"]},
    "material": {
        "stainless steel": ["stainless", "inox", "316", "316l", "304", "aisi 316"],
        "brass": ["brass"],
        "nickel-plated brass": ["nickel plated", "nickel-plated"],
        "aluminium": ["aluminium", "aluminum"],
        "plastic": ["plastic", "polymer", "pvdf", "ptfe", "pom"],
    },
    "mounting": {
        "B14 flange": ["b14"],
        "B5 flange": ["b5"],
        "foot mounted": ["foot mounted", "foot-mounted", "foot mount"],
        "hollow shaft": ["hollow shaft", "shaft mounted", "shaft-mounted"],
        "flange": ["flange mounted", "flange mount"],
    },
    "sensing": {
        "inductive": ["inductive", "proximity"],
        "capacitive": ["capacitive"],
        "photoelectric": ["photoelectric", "optical", "through-beam", "reflective"],
        "ultrasonic": ["ultrasonic"],
        "pressure": ["pressure sensor", "pressure transmitter", "pressure switch"],
        "temperature": ["temperature sensor", "pt100", "pt1000", "thermocouple"],
        "level": ["level sensor", "level switch"],
        "flow": ["flow sensor", "flow switch", "flow meter"],
    },
    "output": {
        "PNP": ["pnp"],
        "NPN": ["npn"],
        "4-20 mA": ["4-20 ma", "4-20ma", "4 20 ma"],
        "0-10 V": ["0-10 v", "0-10v", "0 10 v"],
        "IO-Link": ["io-link", "iolink", "io link"],
        "analog": ["analog", "analogue"],
        "NO": ["normally open"],
        "NC": ["normally closed"],
    },
    "seal": {
        "2RS": [
            "sealed",
            "sealed both sides",
            "rubber sealed",
            "rubber seals",
            "2rs",
            "2rs1",
            "2rsh",
            "rs seals",
        ],
        "2Z": ["shielded", "metal shields", "2z", "zz", "2zr"],
        "open": ["open bearing", "unsealed", "no seals"],
    },
    "environment": {
        "outdoor": ["outdoor", "outdoors", "outside installation"],
        "corrosive": ["corrosive", "aggressive"],
        "food": ["food grade", "food-grade", "food processing", "food plant", "dairy", "beverage"],
        "marine": ["marine", "offshore", "on deck"],
        "cleanroom": ["cleanroom", "clean room"],
        "high temperature": ["hot environment", "high temperature", "near the furnace"],
    },
}
_TEXT_SETS = {
    attr: [(value, PhraseSet(cues, max_gap=0)) for value, cues in values.items()]
    for attr, values in _TEXT_ATTRIBUTES.items()
}

_THREAD = re.compile(
    r"\b(?:(G|R|Rc|Rp|BSPP|BSPT|BSP)\s?(\d{1,2}/\d{1,2}|\d(?:\.\d)?)\"?"
    r"|(\d{1,2}/\d{1,2})\"?\s?(NPTF?|BSPP?|BSPT|UNF|UNC)"
    r"|(NPTF?)\s?(\d{1,2}/\d{1,2})"
    r"|(M\d{1,2}\s?[xX×]\s?\d(?:[.,]\d{1,2})?))\b"
)
_TUBE = re.compile(
    r"\b(\d{1,2}(?:[.,]\d)?)\s?mm\s+(?:od\s+)?(?:tube|tubing|hose|pipe)\b|\b(?:tube|tubing|hose)\s+(?:od\s+)?(\d{1,2}(?:[.,]\d)?)\s?mm\b",
    re.I,
)
_CONNECTOR_SIZE = re.compile(r"\b(M8|M12|M16|M23|7/8)(?:\"|\b)(?!\s?[xX×]\s?\d)", re.I)
_POLES = re.compile(r"\b(\d{1,2})\s?[- ]?(?:pin|pins|pole|poles|way|contacts?)\b", re.I)
_BORE = re.compile(
    r"\b(\d{1,3}(?:[.,]\d)?)\s?mm\s+(?:bore|shaft|inner diameter|id)\b|\bbore\s+(?:of\s+)?(\d{1,3}(?:[.,]\d)?)\s?mm\b",
    re.I,
)
# A bearing's boundary dimensions "bore x outer diameter x width" ("30x55x13", "25 x 47 x 12 mm"):
# three numbers whose middle one (the outer diameter) is the largest.
_BEARING_DIMS = re.compile(
    r"(?<![\w.-])(\d{1,3}(?:[.,]\d)?)\s?[xX×]\s?(\d{1,3}(?:[.,]\d)?)\s?[xX×]\s?(\d{1,3}(?:[.,]\d)?)(?:\s?mm)?(?![\w.])"
)
_CROSS = re.compile(
    r"\b(\d{1,2})\s?[xX×]\s?(\d{1,3}(?:[.,]\d{1,2})?)\s?(?:mm²|mm2|sq ?mm)?|\b(\d{1,2})\s?AWG\b", re.I
)
_CABLE_LENGTH = re.compile(r"\b(\d{1,4}(?:[.,]\d)?)\s?(m|metres|meters|meter|metre|ft|feet)\b(?!\s?/)", re.I)

# A count never comes from inside a part number: "GX-220", "PF-ST-12G14-297" and "6205-2RS"
# hold digits, not quantities. A number counts only when it stands alone and is followed by
# a count word ("500 units", "40 gearboxes", "2k pcs"), by a part number ("500 GX-220",
# "300 of the PF-ST-12G14-297"), by "x" ("12 x"), or follows "qty".
_NUM = r"(?<![\w./-])(?:\d{1,3}(?:[,.' ]\d{3})+|\d+)(?![a-jl-wyz0-9_/]|[kx]\w|[.,]\d|-\w)"
_SKU_WORD = r"[A-Z][A-Z0-9]{0,5}(?:-[A-Z0-9]{1,8}){1,4}s?"
_COUNT_WORDS = (
    r"units?|pcs|pieces?|pc|nos|off|sets?|assemblies|kits?|each|items?|of them|of these|of those|"
    r"gearboxes|gearmotors|gear motors|drives|pumps|sensors|bearings|connectors|fittings|valves|"
    r"motors|cables|cable assemblies|cordsets|reels"
)
_ORDER_QTY = re.compile(
    rf"(?:\b(?:qty|quantity|quantities)\s*(?:of|:|=)?\s*(?P<a>{_NUM})(?P<ak>\s?k\b)?)"
    rf"|(?:(?P<c>{_NUM})\s?x\b(?!\s?\d)(?:\s*(?P<csku>{_SKU_WORD})\b)?)"
    rf"|(?:(?P<b>{_NUM})(?P<bk>\s?k\b)?\s*(?:x\s+)?"
    rf"(?:(?:of\s+(?:the\s+|these\s+|those\s+)?)?(?P<sku>{_SKU_WORD})(?:\s+|\b))?"
    rf"(?P<unit>{_COUNT_WORDS})?\b)",
)
_UNIT_CASE = re.compile(rf"^(?:{_COUNT_WORDS})$", re.I)

URGENCY = PhraseSet(
    [
        "today",
        "tomorrow",
        "this week",
        "this month",
        "next week",
        "end of the week",
        "end of week",
        "end of the month",
        "by friday",
        "by monday",
        "asap",
        "as soon as possible",
        "urgent",
        "urgently",
        "line is down",
        "line down",
        "production stopped",
        "production is down",
        "plant is down",
        "machine down",
        "avoid downtime",
        "downtime",
        "emergency",
        "right away",
        "immediately",
        "within days",
        "within a week",
        "standstill",
    ],
    max_gap=1,
)

REGIONS = [
    "nordics",
    "scandinavia",
    "sweden",
    "norway",
    "denmark",
    "finland",
    "germany",
    "austria",
    "switzerland",
    "netherlands",
    "belgium",
    "france",
    "spain",
    "portugal",
    "italy",
    "poland",
    "czech republic",
    "uk",
    "united kingdom",
    "ireland",
    "baltics",
    "estonia",
    "latvia",
    "lithuania",
    "us",
    "usa",
    "united states",
    "canada",
    "mexico",
    "brazil",
    "texas",
    "ohio",
    "california",
    "midwest",
    "east coast",
    "west coast",
    "apac",
    "asia",
    "china",
    "japan",
    "korea",
    "singapore",
    "india",
    "australia",
    "new zealand",
    "middle east",
    "uae",
    "saudi arabia",
    "south africa",
    "emea",
    "europe",
    "eu",
    "north america",
    "latin america",
    "benelux",
    "dach",
]
_REGION_RE = re.compile(
    r"\b(" + "|".join(re.escape(r) for r in sorted(REGIONS, key=len, reverse=True)) + r")\b", re.I
)


@dataclass(frozen=True)
class TurnFacts:
    """What one buyer turn states."""

    constraints: list[Constraint]
    quantities: list[Quantity]
    urgency: str | None
    region: str | None


def _op_for(text: str, start: int, end: int) -> str:
    before = normalize(text[max(0, start - 24) : start])
    for pattern, op in _OP_BEFORE:
        if pattern.search(before):
            return op
    after = normalize(text[end : end + 16])
    for pattern, op in _OP_AFTER:
        if pattern.search(after):
            return op
    return ""


def _value_text(q: UnitQuantity) -> tuple[str, str]:
    """(value, unit) as the buyer would read them; ratings keep their code."""
    if q.rating:
        return q.rating, ""
    shown = q.display()
    if q.unit and shown.endswith(q.unit):
        return shown[: -len(q.unit)].strip(), q.unit
    return shown, ""


def extract_constraints(text: str, turn: int | None = None) -> list[Constraint]:
    """Requirements with values and units stated in one buyer turn, in text order."""
    found: list[tuple[int, Constraint]] = []
    taken: list[tuple[int, int]] = []
    lowered = normalize(text)

    def add(pos: int, name: str, value: str, unit: str = "", span: tuple[int, int] | None = None) -> None:
        if any(c.name == name and c.value == value for _, c in found):
            return
        found.append((pos, Constraint(name=name, value=value[:200], unit=unit, source_turn=turn)))
        if span:
            taken.append(span)

    for m in _THREAD.finditer(text):
        add(m.start(), "thread", re.sub(r"\s+", " ", m.group(0)).strip(), span=m.span())
    for m in _TUBE.finditer(text):
        add(m.start(), "tube_size", (m.group(1) or m.group(2)).replace(",", "."), "mm", span=m.span())
    for m in _BORE.finditer(text):
        add(m.start(), "bore", (m.group(1) or m.group(2)).replace(",", "."), "mm", span=m.span())
    for m in _POLES.finditer(text):
        add(m.start(), "poles", m.group(1), span=m.span())
    for m in _BEARING_DIMS.finditer(text):
        bore, outer, width = (float(g.replace(",", ".")) for g in m.groups())
        if outer > bore and outer > width:
            for name, raw in zip(("bore", "outer_diameter", "width"), m.groups(), strict=True):
                add(m.start(), name, raw.replace(",", "."), "mm")
            taken.append(m.span())
    for m in _CROSS.finditer(text):
        if _overlaps(m.span(), taken):
            continue
        if m.group(3):
            add(m.start(), "cross_section", f"{m.group(3)} AWG", span=m.span())
        elif re.search(r"mm|sq", m.group(0), re.I):
            add(m.start(), "cross_section", f"{m.group(1)}×{m.group(2)}", "mm²", span=m.span())
    for m in _CONNECTOR_SIZE.finditer(text):
        if not _overlaps(m.span(), taken):
            add(m.start(), "size", m.group(1).upper(), span=m.span())

    for (start, end), q in extract_quantities(text):
        if _overlaps((start, end), taken):
            continue
        name = _DIMENSION_NAMES.get(q.dimension)
        if q.dimension == "length":
            name = _length_name(lowered, start, end, q.original)
        if name is None:
            continue
        value, unit = _value_text(q)
        if name == "head":
            value, unit = f"{q.value:g}", "m"  # delivery head in metres, whatever unit was written
        elif q.dimension == "length":
            value, unit = re.sub(r"\s+", " ", q.original).strip(), ""
        op = _op_for(text, start, end)
        add(start, name, f"{op} {value}".strip(), unit)

    words = tokens(text)
    for attr, sets in _TEXT_SETS.items():
        for value, phrases in sets:
            positions = phrases.positions(words)
            if positions:
                # position in words, scaled to keep rough text order with regex finds
                add(len(text) + positions[0][1], attr, value)
                break
    found.sort(key=lambda pair: pair[0])
    return [c for _, c in found]


_OUTER = re.compile(r"^\s*(outer diameter|outside diameter|od)\b|^\s*(outer|outside)\b")
_OUTER_BEFORE = re.compile(r"\b(od|outer diameter|outside diameter)\s*(of)?\s*$")
_BORE_AFTER = re.compile(r"^\s*(bore|inner diameter|id|shaft)\b")
_HEAD_AFTER = re.compile(r"^\s*(of\s+)?((delivery|pump|total|discharge)\s+)?head\b")
_HEAD_BEFORE = re.compile(r"\bhead\s*(of|:|=)?\s*(about|around|approx\.?|roughly)?\s*$")
_LENGTH_WORDS = re.compile(r"^\s*(cable|lead|long|length|of cable)\b")
_LENGTH_BEFORE = re.compile(r"(cable|length)\s*(of)?\s*$")


def _length_name(lowered: str, start: int, end: int, original: str) -> str:
    """Which length a buyer means: pump head, bore, outer diameter, cable length, or a dimension."""
    after, before = lowered[end : end + 20], lowered[max(0, start - 20) : start]
    if _HEAD_AFTER.match(after) or _HEAD_BEFORE.search(before):
        return "head"  # "30 m head": the pressure a pump must deliver, as a height of liquid
    if _BORE_AFTER.match(after):
        return "bore"
    if _OUTER.match(after) or _OUTER_BEFORE.search(before):
        return "outer_diameter"
    if _LENGTH_WORDS.match(after) or _LENGTH_BEFORE.search(before):
        return "length"
    if re.search(r"\d\s*(m|metres?|meters?|ft|feet)\s*$", original.strip(), re.I):
        return "length"  # metres are cable runs; millimetres are dimensions
    return "dimension"


def _overlaps(span: tuple[int, int], taken: list[tuple[int, int]]) -> bool:
    return any(span[0] < b and a < span[1] for a, b in taken)


def _number(raw: str, kilo: str | None) -> float | None:
    cleaned = re.sub(r"[,' ]", "", raw)
    if cleaned.count(".") == 1 and len(cleaned.split(".")[1]) == 3:
        cleaned = cleaned.replace(".", "")  # "1.000" written the European way
    try:
        value = float(cleaned)
    except ValueError:
        return None
    return value * 1000 if kilo else value


def extract_order_quantities(text: str, turn: int | None = None, sku: str | None = None) -> list[Quantity]:
    """How many pieces the buyer wants ("500 units", "qty 1,200", "40 gearboxes", "2k pcs", "500 GX-220").

    Digits inside part numbers and numbers without a count word or part number next to
    them (dimensions, ratings, years) are not quantities.
    """
    found: list[Quantity] = []
    for m in _ORDER_QTY.finditer(_case_fold_units(text)):
        if m.group("b") is not None and not (m.group("unit") or m.group("sku")):
            continue  # a bare number: "the 400 series", "at 60 degrees"
        raw = m.group("a") or m.group("b") or m.group("c")
        kilo = m.group("ak") or m.group("bk")
        amount = _number(raw, kilo)
        if amount is None or amount <= 0 or amount >= 10_000_000:
            continue
        unit = (m.group("unit") or "pcs").lower()
        unit = (
            "pcs"
            if unit in {"unit", "units", "pc", "piece", "pieces", "nos", "off", "each", "x", "item", "items"}
            or unit.startswith("of ")
            else unit
        )
        named = m.group("sku") or m.group("csku")
        found.append(
            Quantity(
                amount=amount, unit=unit, sku=sku or (named.rstrip("s") if named else None), source_turn=turn
            )
        )
    return found


def _case_fold_units(text: str) -> str:
    """Lower-case everything but part numbers, so count words match in any case and SKUs stay upper."""
    return re.sub(
        r"[A-Za-z][\w-]*", lambda m: m.group(0) if re.search(r"\d", m.group(0)) else m.group(0).lower(), text
    )


def extract_urgency(text: str) -> str | None:
    """The buyer's deadline or urgency phrase, as written."""
    found = URGENCY.positions(text)
    if not found:
        return None
    return min(found, key=lambda pair: pair[1])[0]


def extract_region(text: str) -> str | None:
    """A delivery region named in the text ("for Norway", "to our Texas plant")."""
    m = _REGION_RE.search(text)
    if not m:
        return None
    word = m.group(1)
    if word.lower() == "us" and not re.search(r"\b(US|U\.S\.)\b", text):
        return None  # the pronoun "us"
    return word if word.isupper() else word.title()


def extract_facts(text: str, turn: int | None = None) -> TurnFacts:
    """Everything this module reads from one buyer turn (cached: every decision re-reads the transcript)."""
    facts = _extract_facts(text, turn)
    return TurnFacts(
        constraints=[c.model_copy() for c in facts.constraints],
        quantities=[q.model_copy() for q in facts.quantities],
        urgency=facts.urgency,
        region=facts.region,
    )


@lru_cache(maxsize=4096)
def _extract_facts(text: str, turn: int | None) -> TurnFacts:
    return TurnFacts(
        constraints=extract_constraints(text, turn),
        quantities=extract_order_quantities(text, turn),
        urgency=extract_urgency(text),
        region=extract_region(text),
    )
