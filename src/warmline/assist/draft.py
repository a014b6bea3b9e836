"""The ``draft`` lookup: a reply draft grounded in catalog facts, optionally reworded by a language model.

The template is deterministic over catalog facts; a model may reword it, but a rewording
that drops a SKU or a number is refused and the template kept (same facts, same citations).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from warmline.assist.common import (
    KEY_ATTRIBUTES_IN_DRAFT,
    MAX_DRAFT_SKUS,
    Progress,
    _Cites,
    _no_progress,
    log,
)
from warmline.assist.substitutes import packet_constraints
from warmline.catalog.models import Lifecycle, SpecAttribute, SpecSheet
from warmline.catalog.service import CatalogService, ProductNotFound
from warmline.catalog.units import (
    Constraint,
    QuantityError,
    compare,
    parse_quantity,
)
from warmline.domain.assist import AssistResult, Citation
from warmline.domain.packet import HandoffPacket
from warmline.escalation.llm import ChatPhraser


def _attr_quantity(a: SpecAttribute) -> Any:
    if a.dimension is None:
        return None
    try:
        return parse_quantity(a.value, dimension=a.dimension)
    except (QuantityError, ValueError):
        return None


def check_constraint(c: Constraint, sheet: SpecSheet) -> tuple[str, SpecAttribute | None]:
    """'meets' | 'fails' | 'unknown' for one constraint against a spec sheet's primary value."""
    attr = next((a for a in sheet.attributes if a.name == c.attribute), None)
    if attr is None:
        return "unknown", None
    if c.op == "exists":
        return "meets", attr
    if c.value is not None:
        q = _attr_quantity(attr)
        if q is None:
            return "unknown", attr
        ok = compare(q, c.op, c.value)
        return ("unknown" if ok is None else "meets" if ok else "fails"), attr
    wanted = (c.text or "").strip().casefold()
    same = attr.value.strip().casefold() == wanted
    if c.op == "!=":
        return ("fails" if same else "meets"), attr
    return ("meets" if same else "fails"), attr


@dataclass
class DraftFacts:
    sheets: list[SpecSheet] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def template_draft(
    packet: HandoffPacket, facts: DraftFacts, constraints: Sequence[Constraint], skipped: Sequence[str]
) -> tuple[str, list[Citation]]:
    """The deterministic reply: what the buyer wants, the facts per SKU, checks, what is still open."""
    cites = _Cites()
    paras: list[str] = []
    opening = (
        "Thanks for waiting — I'm a product specialist and I've read your conversation with our assistant."
    )
    opening += _goal_sentence(packet)
    paras.append(opening)
    for sheet in facts.sheets[:MAX_DRAFT_SKUS]:
        p = sheet.product
        key = [a for a in sheet.attributes if not a.marketing_only][:KEY_ATTRIBUTES_IN_DRAFT]
        if key:
            values = "; ".join(f"{a.label.lower()} {a.value}" for a in key)
            docs = sorted({a.source.document_title for a in key})
            para = f"{p.sku} ({p.name}): {values} (per the {', '.join(docs)})."
            cites.from_sheet(sheet, key)
        else:
            para = (
                f"{p.sku} ({p.name}): the catalog has no verified technical data for it, "
                "so I will confirm the details with the manufacturer."
            )
        if p.status is not Lifecycle.ACTIVE:
            succ = sheet.supersession_chain[-1] if sheet.supersession_chain else None
            para += f" Note that {p.sku} is discontinued" + (
                f"; its current successor is {succ}." if succ else "."
            )
        for conflict in sheet.conflicts:
            if any(a.name == conflict.attribute for a in key):
                shown = next(a for a in key if a.name == conflict.attribute)
                others = ", ".join(
                    f"{v.value} ({v.document_title})" for v in conflict.values if v.value != shown.value
                )
                para += (
                    f" Our documents disagree on {conflict.label.lower()} ({others});"
                    " I'll confirm the exact figure."
                )
                for v in conflict.values:
                    cites.add(p.sku, v.document_title, v.document_kind.value, v.ref)
        for c in constraints:
            verdict, attr = check_constraint(c, sheet)
            if attr is None:
                para += (
                    f" The catalog does not state its {c.attribute} yet,"
                    f" so I will check {c.describe()} for you."
                )
            elif verdict == "meets":
                para += f" It meets your requirement of {c.describe()} ({attr.value})."
                cites.from_sheet(sheet, [attr])
            elif verdict == "fails":
                para += f" It does not meet {c.describe()} ({attr.value})."
                cites.from_sheet(sheet, [attr])
        paras.append(para)
    if facts.missing:
        paras.append(
            f"I couldn't find {', '.join(facts.missing)} in our catalog; could you confirm the part number?"
        )
    open_items = [t for t in (_open_item(n.text, packet.goal) for n in packet.unresolved) if t]
    if open_items:
        paras.append("Still open: " + "; ".join(open_items) + ". I'll come back to you on these.")
    if skipped:
        paras.append("I'll also double-check: " + "; ".join(s.split(" (")[0] for s in skipped) + ".")
    paras.append("Let me know if anything here doesn't match what you need.")
    return "\n\n".join(paras), cites.items


_GREETING = re.compile(r"^(?:hi|hello|hey|dear|good (?:morning|afternoon|evening))\b[^,.!?]*[,.!]?\s*", re.I)
_FIRST_PERSON = re.compile(r"^(?:i|i'm|i've|we|we're|we've|our|my|us)\b", re.I)


def _goal_sentence(packet: HandoffPacket) -> str:
    """The "You're looking to <goal>." sentence, only when the goal reads as one short aim; the
    packet's goal is often the buyer's own words (a question, a greeting, several sentences):
    those are not pasted back, the SKUs are named instead."""
    goal = _GREETING.sub("", packet.goal.strip()).strip()
    skus = list(dict.fromkeys(p.sku for p in packet.products))[:3]
    plain = (
        goal
        and len(goal) <= 100
        and "?" not in goal
        and not _FIRST_PERSON.match(goal)
        and goal.rstrip(".!").count(".") == 0
    )
    if plain:
        goal = goal.rstrip(".!")
        return f" You're looking to {goal[0].lower() + goal[1:]}."
    if skus:
        return f" You asked about {_join(skus)}."
    return ""


def _open_item(text: str, goal: str) -> str:
    """An unresolved note for the reply; the buyer's own questions and long quotes are left out."""
    item = text.strip().rstrip(".!")
    if not item or "?" in item or len(item) > 120 or item.casefold() in goal.casefold():
        return ""
    return item


def _join(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


_FACT_RE = re.compile(r"\b[A-Z]{1,5}-[A-Z0-9][\w-]*\b|\d+(?:[.,]\d+)?")


def keeps_facts(original: str, rephrased: str) -> bool:
    """A rewording must keep every SKU and every number of the template."""
    return all(f in rephrased for f in set(_FACT_RE.findall(original)))


async def draft(
    catalog: CatalogService,
    packet: HandoffPacket,
    *,
    skus: Sequence[str] = (),
    instructions: str = "",
    phraser: ChatPhraser | None = None,
    llm_timeout: float = 20.0,
    progress: Progress = _no_progress,
) -> AssistResult:
    wanted = list(dict.fromkeys([*skus, *[p.sku for p in packet.products]]))[:MAX_DRAFT_SKUS]
    facts = DraftFacts()
    for i, sku in enumerate(wanted):
        await progress(0.6 * i / max(len(wanted), 1), f"reading {sku}")
        try:
            facts.sheets.append(await catalog.spec_sheet(sku))
        except ProductNotFound:
            if sku in skus:
                raise
            facts.missing.append(sku)
    constraints, skipped = packet_constraints(packet)
    text, citations = template_draft(packet, facts, constraints, skipped)
    phrased_by = "template"
    fallback: str | None = None
    if phraser is not None:
        await progress(0.7, "wording the reply")
        outcome = "a product specialist's reply to a buyer"
        if instructions.strip():
            outcome += f"; the specialist asks: {instructions.strip()}"
        try:
            worded = await asyncio.wait_for(phraser.rephrase(text, outcome=outcome), llm_timeout)
        except Exception as exc:  # any model failure keeps the template (same facts, same citations)
            log.warning("language model unavailable, keeping the template draft: %s", exc)
            fallback = (
                f"language model failed: {exc}"
                if str(exc)
                else f"language model failed: {type(exc).__name__}"
            )
        else:
            if keeps_facts(text, worded):
                text, phrased_by = worded, "llm"
            else:
                fallback = "the language model dropped a part number or a number; kept the template"
    data: dict[str, Any] = {
        "grounded": bool(citations),
        "phrased_by": phrased_by,
        "skus": [s.product.sku for s in facts.sheets],
        "missing_skus": facts.missing,
        "constraints": [c.describe() for c in constraints],
        "skipped_constraints": list(skipped),
    }
    if instructions.strip():
        data["instructions"] = instructions.strip()
    if fallback:
        data["fallback_reason"] = fallback
    return AssistResult(title="Draft reply", text=text, citations=citations, data=data)
