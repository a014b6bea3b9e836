"""From buyer text to catalog queries: which attributes a question asks about, how a bare size
reads in a family, and the search query with the catalog's filter syntax for the constraints.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from warmline.domain.packet import Constraint
from warmline.escalation import signals as sig
from warmline.escalation.cues import ASKED_SETS, AT_LEAST, EQUALS, FILLER, OPS
from warmline.escalation.text import content_tokens, tokens


def asked_attributes(text: str, ev: sig.ProductEvidence | None, stated: Sequence[Constraint]) -> list[str]:
    """The attributes a lookup asks about, in the order asked, so every one gets an answer.

    Named attributes ("rated current and IP class") come from their cue words; a value
    stated about the product ("is the X IP66?", "is it stainless?") asks for that attribute
    too, when the catalog holds it.
    """
    words = tokens(text)
    found: list[tuple[int, str]] = []
    for name, phrases in ASKED_SETS.items():
        at = [pos for _, pos in phrases.positions(words)]
        if at:
            found.append((min(at), name))
    asked = [name for _, name in sorted(found)]
    if ev is not None:
        for c in stated:
            name = {"tube_size": "tube_od"}.get(c.name, c.name)
            if name in ev.attributes and name not in asked:
                asked.append(name)
    return asked


def in_family_terms(constraints: list[Constraint], family: str | None) -> list[Constraint]:
    """Read a bare size the way the family is sized: an "8 mm push-in fitting" is for 8 mm tube."""
    if family != "pneumatic_fitting" or any(c.name == "tube_size" for c in constraints):
        return constraints
    out = []
    for c in constraints:
        m = re.fullmatch(r"(\d{1,2}(?:\.\d)?)\s?mm", c.value.strip()) if c.name == "dimension" else None
        out.append(c.model_copy(update={"name": "tube_size", "value": m.group(1), "unit": "mm"}) if m else c)
    return out


def search_query(text: str, family: str | None, constraints: Sequence[Constraint]) -> str:
    """Content words plus the catalog's filter syntax for the constraints it can check.

    Operating conditions become minimum ratings (a 6 bar line needs a valve rated >= 6 bar);
    identity attributes (voltage, thread, size) must match.
    """
    words = [w for w in content_tokens(text) if w not in FILLER and len(w) > 2 and not re.search(r"\d", w)]
    words += [c.value.lower() for c in constraints if c.name == "size"]
    parts = words[:8]
    if family:
        parts.append(f"family:{family}")
    for c in constraints:
        value = c.value
        op = ""
        if value[:1] in "≥≤<>":
            op, _, value = value.partition(" ")
        unit = c.unit.replace("N·m", "Nm").replace(" ", "")
        value = value.replace(" ", "")
        if c.name == "ip":
            parts.append(f"ip>={value.upper().removeprefix('IP')}")
        elif c.name == "pressure" and family == "pump" and unit == "bar":
            # pumps are rated in delivery head: 1 bar of water is about 10.2 m
            parts.append(f"head>={float(value) * 10.2:.0f}m")
        elif c.name in AT_LEAST:
            parts.append(f"{c.name}{OPS.get(op, '>=') if op else '>='}{value}{unit}")
        elif c.name in EQUALS and not op:
            parts.append(f"{EQUALS[c.name]}:{value}{unit}")
    return " ".join(parts)
