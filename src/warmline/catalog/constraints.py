"""Attributes the catalog knows and constraints on them ("torque >= 180 N·m", "family:gearbox").

``ATTRIBUTES`` names each attribute with its dimension, display unit and the labels tables
and documents use for it; ``parse_constraint`` reads what a user or a handoff packet asks for
("torque>=180Nm", "IP65", "torque above 180 Nm", "family:gearbox").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from warmline.catalog.quantities import _NUM, _RANGE_SEP, Quantity, parse_quantity
from warmline.catalog.unit_table import RATING_DIMENSIONS, ConstraintError, QuantityError, is_plain_text

if TYPE_CHECKING:  # pragma: no cover
    from warmline.domain.packet import Constraint as PacketConstraint


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
            raise ConstraintError(text, str(op), f"cannot compare {attr} (use ':' or '!=')")
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
