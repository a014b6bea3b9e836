"""How well a catalog product fits the buyer's stated constraints, for ordering a shortlist.

Catalog search ranks by text relevance and only filters on requirements; a buyer asking for
a 400 N·m gearbox wants the 400 N·m parts before a 750 N·m one that also "passes". Each
constraint scores 0..1 against the product's attribute: 1 for an exact fit, 0.5..1 for a
target value ("about 400 Nm") met with room to spare (the closer, the higher), 1 for any
value meeting an explicit minimum ("at least 180 Nm"), 0 when it is not met -- or when a
minimum on an attribute the family is sized by is met many times over (above
``OVERSIZE_FACTOR`` times the ask: the catalog's own rule for substitutes, families.toml
``sized_by``; a 750 N·m gearbox is no answer to a 180 N·m need, while a fitting rated 16 bar
is fine for 6 bar shop air). Pure
functions over the plain evidence the signals use, so the ordering is unit-tested without
a database.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from warmline.catalog.store import family_rules
from warmline.catalog.substitutes import OVERSIZE_FACTOR
from warmline.catalog.units import Quantity, QuantityError, compare, parse_quantity
from warmline.domain.packet import Constraint

# Requirements that are minimums: a bigger rating also works, but fits less closely.
AT_LEAST = frozenset({"torque", "flow", "pressure", "power", "head", "load", "dynamic_load"})
# Constraint name -> catalog attribute, where they differ.
ATTRIBUTE_FOR = {"tube_size": "tube_od"}
# Special variants that cost more and are only right when asked for (an ATEX fitting for shop air).
SPECIAL_VARIANTS = frozenset({"atex"})
# A product that does not state the attribute at all: neither a fit nor a miss.
UNKNOWN = 0.3
# Metres of water head per bar: pumps are rated in head, buyers often say bar.
HEAD_PER_BAR = 10.2
_OP = re.compile(r"^\s*([≥≤<>])\s*")


def constraint_fit(attributes: dict[str, str], c: Constraint, family: str | None = None) -> float | None:
    """How well one product attribute meets one constraint (0..1); None when it cannot be judged."""
    name = ATTRIBUTE_FOR.get(c.name, c.name)
    op_match = _OP.match(c.value)
    op = op_match.group(1) if op_match else ""
    raw = c.value[op_match.end() :] if op_match else c.value
    if name == "pressure" and family == "pump" and "pressure" not in attributes and "head" in attributes:
        wanted = _quantity(raw, c.unit)
        if wanted is None or wanted.dimension != "pressure":
            return None
        name, raw, c_unit = "head", f"{wanted.lo / 1e5 * HEAD_PER_BAR:g}", "m"
    else:
        c_unit = c.unit
    actual_text = attributes.get(name)
    if actual_text is None:
        return UNKNOWN if name not in {"dimension"} else None
    wanted = _quantity(raw, c_unit)
    actual = _quantity(actual_text, "")
    if wanted is None or actual is None or wanted.dimension != actual.dimension:
        return 1.0 if _same_text(raw, actual_text) else 0.0
    if wanted.dimension == "ip":
        return 1.0 if compare(actual, ">=", wanted) else 0.0  # IP65 asked: IP66 protects at least as well
    if op in ("≥", ">") or (not op and name in AT_LEAST):
        if actual.hi < wanted.lo * 0.99:
            return 0.0
        if wanted.lo > 0 and actual.lo > wanted.lo * OVERSIZE_FACTOR and _sized_by(family, name):
            return 0.0  # far outside the asked range: a different class of part, not a fit
        if op:
            return 1.0  # "at least 180 N·m": any rating that meets it fits; relevance decides
        # met; the closer the rating to the need, the better the fit (half credit for any margin)
        return 0.5 + 0.5 * min(1.0, wanted.lo / actual.hi) if actual.hi > 0 else 1.0
    if op in ("≤", "<"):
        if name == "temperature":  # "runs up to 70 °C": the rated range must reach 70 °C
            return 1.0 if actual.hi >= wanted.hi - 0.5 else 0.0
        return 1.0 if actual.lo <= wanted.hi else 0.0
    return 1.0 if compare(actual, "=", wanted) else 0.0


def fit_score(
    attributes: dict[str, str], constraints: Sequence[Constraint], family: str | None = None
) -> float:
    """Sum of the per-constraint fits, less a penalty for special variants nobody asked for."""
    total = 0.0
    for c in constraints:
        score = constraint_fit(attributes, c, family)
        if score is not None:
            total += score
    asked = {ATTRIBUTE_FOR.get(c.name, c.name) for c in constraints}
    for special in SPECIAL_VARIANTS:
        if special in attributes and special not in asked:
            total -= 0.5
    return total


def _sized_by(family: str | None, name: str) -> bool:
    rules = family_rules().get(family or "")
    return rules is not None and name in rules.sized_by


def _quantity(text: str, unit: str) -> Quantity | None:
    for candidate in (f"{text} {unit}".strip(), text):
        try:
            return parse_quantity(candidate)
        except (QuantityError, ValueError):
            continue
    return None


def _same_text(wanted: str, actual: str) -> bool:
    """Text attributes match ignoring case and spacing, either containing the other."""
    a = re.sub(r"[\s-]+", "", wanted.lower())
    b = re.sub(r"[\s-]+", "", actual.lower())
    return bool(a) and (a in b or b in a)
