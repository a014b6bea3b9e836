"""What the AI says: deterministic replies and the one plain sentence of a handoff.

Facts come from the catalog and the packet; this module only words them. An optional
language model may rephrase a reply (see ``llm.py``), never invent its facts.
"""

# ruff: noqa: E501 - plain sentences and regexes read better unbroken

from __future__ import annotations

from collections.abc import Sequence

from warmline.domain.packet import Constraint, HandoffPacket, ReasonCategory
from warmline.escalation.signals import ProductEvidence, RetrievalHit

ATTRIBUTE_WORDS = {
    "flow": "flow rate",
    "temperature": "fluid temperature",
    "medium": "fluid",
    "pressure": "pressure",
    "torque": "required output torque",
    "voltage": "supply voltage",
    "thread": "port thread",
    "tube_size": "tube outer diameter",
    "sensing": "sensing principle (inductive, photoelectric, ...)",
    "output": "output signal (PNP/NPN, 4-20 mA, IO-Link)",
    "size": "connector size (M8, M12, ...)",
    "poles": "number of pins",
    "cross_section": "conductor cross-section",
    "length": "cable length",
    "bore": "bore diameter (or the bearing designation)",
    "ip": "IP rating",
    "mounting": "mounting pattern",
}

FAMILY_WORDS = {
    "gearbox": "gearbox",
    "gearmotor": "gear motor",
    "pump": "pump",
    "pneumatic_fitting": "fitting",
    "valve": "valve",
    "connector": "connector",
    "cable": "cable",
    "sensor": "sensor",
    "bearing": "bearing",
}

LIVE_WORDS = {
    "lead_time": "lead time",
    "stock": "stock by warehouse",
    "pricing": "your contract pricing",
    "quote_status": "the status of your quote",
    "entitlements": "your account's entitlements",
    "order_status": "your open order",
}

PERSON_WORDS = {
    "sales": "a sales specialist",
    "engineer": "an applications engineer",
    "support": "a support specialist",
    "person": "a specialist",
}


def family_word(family: str | None) -> str:
    return FAMILY_WORDS.get(family or "", (family or "product").replace("_", " "))


def join(items: Sequence[str], last: str = "and") -> str:
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {last} {items[-1]}"


def constraint_text(c: Constraint) -> str:
    value = f"{c.value} {c.unit}".strip()
    if c.name in {"washdown"}:
        return "washdown"
    if c.name in {
        "ip",
        "thread",
        "size",
        "medium",
        "material",
        "mounting",
        "sensing",
        "output",
        "environment",
    }:
        return value
    return f"{c.name.replace('_', ' ')} {value}"


def summary_for(reason: ReasonCategory, sub: str, ctx: dict[str, str]) -> str:
    """The one plain sentence: why a person should take over (said to the buyer too)."""
    sku = ctx.get("sku") or "this product"
    attr = ctx.get("attribute") or "a key value"
    if reason is ReasonCategory.LOW_CONFIDENCE:
        return {
            "unverified_compatibility": "This looks like a compatibility decision that should be checked against "
            "your installation details.",
            "conflicting_sources": f"Our documents disagree on the {attr} of {sku}, so a specialist should "
            "confirm the value before you rely on it.",
            "missing_attribute": f"Our catalog data does not state the {attr} of {sku}, so a specialist should "
            "confirm it rather than me guessing.",
            "no_authoritative_document": f"I only have marketing material for {sku}, not a datasheet or "
            "certificate, so a specialist should confirm the technical details.",
            "unsupported_certification": f"I have no {ctx.get('certification') or 'such'} certificate on file "
            f"for {sku}, so I can't confirm it; a specialist should check it before you rely on it.",
            "no_substitute": f"I could not find a verified substitute for {sku} that meets your requirements, so a "
            "specialist should review the options.",
            "no_match": "None of our catalog products clearly meets these requirements, so a specialist should "
            "look at the options with you.",
        }.get(
            sub,
            "I could not find catalog information I can stand behind for this, so a specialist should "
            "take a look.",
        )
    if reason is ReasonCategory.LIVE_DATA:
        need = LIVE_WORDS.get(sub, "this")
        verb = "needs" if sub not in {"stock"} else "need"
        return f"I can help narrow the options, but {need} {verb} live account data that I don't have."
    if reason is ReasonCategory.PURCHASE_INTENT:
        return {
            "quote_request": "You're ready for a quote, which a sales specialist prepares with your account's "
            "pricing and availability.",
            "order_intent": "You're ready to order, so a sales specialist will take it from here with your "
            "account's pricing and availability.",
            "standardization": "Standardizing across sites is a project a specialist should plan with you.",
            "urgent_need": "This is time-critical, so a specialist is joining to move it forward right away.",
        }.get(sub, "This is a buying decision a specialist can move forward faster than I can.")
    if reason is ReasonCategory.POLICY_RULE:
        return {
            "atex": "Hazardous-area (ATEX) requirements must be confirmed by a certified specialist, not by me.",
            "safety_critical": "Safety-critical selections are always confirmed by a specialist.",
            "food_contact": "Food-contact compliance has to be confirmed by a specialist against the "
            "certificates.",
            "discontinued_replacement": f"{sku} is {ctx.get('status') or 'discontinued'}, and replacements for "
            "discontinued or superseded parts are "
            "confirmed by a specialist.",
            "safety_critical_replacement": f"{sku} is a safety-critical part, and its replacement is confirmed by "
            "a specialist.",
            "quantity_threshold": f"An order of {ctx.get('quantity', 'this size')} needs a specialist to confirm "
            "supply and pricing.",
            "enterprise_account": "Under your company's support agreement, a specialist handles this directly.",
            "assisted_service": "Your account has assisted service, so a specialist will confirm this selection "
            "with you.",
        }.get(sub, "Our policy is that a specialist handles this kind of request.")
    if reason is ReasonCategory.COMPLEXITY:
        return {
            "frustration": "I haven't given you what you need, so a specialist is taking over.",
            "repeated_question": "You've asked this several times and I haven't answered it well, so a specialist "
            "is taking over.",
            "clarification_loop": "We've gone back and forth without pinning down the requirement, so a "
            "specialist should help.",
            "broad_comparison": "Comparing this many products involves tradeoffs that an applications specialist "
            "handles better.",
            "system_design": "You are asking for a full-system recommendation, which is better handled by an "
            "applications specialist.",
            "exception_handling": "This needs an exception to the standard process, which a specialist has to "
            "handle.",
            "unresolved_troubleshooting": "The first checks didn't solve the problem, so a specialist should "
            "diagnose it with you.",
        }.get(sub, "This has become a case a specialist handles better.")
    who = PERSON_WORDS.get(sub, "a specialist")
    return f"You asked to talk to a person, so I'm bringing in {who}."


def handoff_reply(packet: HandoffPacket) -> str:
    """Tell the buyer plainly why a specialist is joining and what is passed along."""
    passed: list[str] = []
    if packet.goal:
        passed.append("your goal")
    skus = [p.sku for p in packet.products][:4]
    if skus:
        passed.append(join(skus))
    if packet.constraints:
        passed.append(f"your requirements ({join([constraint_text(c) for c in packet.constraints[:6]])})")
    if packet.quantities:
        passed.append("the quantities")
    if packet.urgency:
        passed.append(f"your timing ({packet.urgency})")
    if packet.unresolved:
        passed.append("the open question")
    what = join(passed) if passed else "this conversation"
    return (
        f"{packet.summary} You don't need to start over: I'm passing along {what} to the specialist "
        "joining this conversation."
    )


def clarify_reply(family: str | None, missing: Sequence[str], context: str = "") -> str:
    """The minimum useful question: only what is missing, in one turn; ends with '?'."""
    words = [ATTRIBUTE_WORDS.get(m, m.replace("_", " ")) for m in missing]
    what = family_word(family)
    article = "an" if what[:1] in "aeiou" else "a"
    lead = f"To recommend {article} {what}{context} I need the {join(words)}."
    return f"{lead} What are they?" if len(words) > 1 else f"{lead} What is it?"


def which_product_reply(referent: bool, unknown: Sequence[str], closest: dict[str, list[str]]) -> str:
    """Ask what the buyer means when no product is identified yet."""
    if unknown:
        part = unknown[0]
        near = closest.get(part) or []
        if near:
            return f"I can't find {part} in our catalog. Did you mean {join(near[:3], 'or')}?"
        return (
            f"I can't find {part} in our catalog. Could you check the part number, or tell me what kind of product "
            "it is and what it needs to do?"
        )
    if referent:
        return "Which product do you mean? A part number or a link to the product page is enough."
    return "Which product are you looking at? A part number, or the kind of product and what it is for, is enough."


def shortlist_reply(
    hits: Sequence[RetrievalHit], evidence: dict[str, ProductEvidence], constraints: Sequence[Constraint]
) -> str:
    """A bounded next step: a shortlist with one key fact per product and where it comes from."""
    lines = []
    for hit in hits:
        ev = evidence.get(hit.sku)
        facts = ""
        if ev is not None:
            asked = [c.name for c in constraints if c.name in ev.attributes]
            keys = list(dict.fromkeys([*asked, *(k for k in _SHOWN if k in ev.attributes)]))[:3]
            shown = [f"{k.replace('_', ' ')} {ev.attributes[k]}" for k in keys]
            facts = f" ({'; '.join(shown)})" if shown else ""
        lines.append(f"{hit.sku} {hit.name}{facts}")
    based = f" for {join([constraint_text(c) for c in constraints[:6]])}" if constraints else ""
    return (
        f"These match{based}: {'; '.join(lines)}. I can compare them side by side, send the datasheets, "
        "or check a specific detail."
    )


def comparison_reply(evidence: Sequence[ProductEvidence]) -> str:
    """A side-by-side comparison of a few products on the attributes they share."""
    shared = [k for k in _SHOWN if all(k in ev.attributes for ev in evidence)][:4]
    parts = []
    for ev in evidence:
        values = ", ".join(f"{k} {ev.attributes[k]}" for k in shared)
        parts.append(f"{ev.sku}: {values or ev.name}")
    return f"Side by side: {'; '.join(parts)}. The datasheets are linked below."


def answer_reply(ev: ProductEvidence, asked: Sequence[str]) -> str:
    """A grounded answer: the asked values of one product, with its documents as sources."""
    keys = [a for a in asked if a in ev.attributes] or [k for k in _SHOWN if k in ev.attributes][:4]
    values = "; ".join(f"{k.replace('_', ' ')}: {ev.attributes[k]}" for k in keys)
    status = ""
    if ev.status in {"discontinued", "superseded"}:
        status = f" Note: {ev.sku} is {ev.status}" + (
            f"; its successor is {ev.superseded_by}." if ev.superseded_by else "."
        )
    docs = [d.title for d in ev.documents if d.kind != "marketing"][:2]
    source = f" (source: {join(docs)})" if docs else ""
    return f"{ev.sku} {ev.name}: {values}{source}.{status}"


def certification_reply(ev: ProductEvidence, found: dict[str, str]) -> str:
    """A certification question answered from the certificate or attribute on file."""
    listed = "; ".join(f"{cert}: {where}" for cert, where in found.items())
    return f"On file for {ev.sku}: {listed}. The documents are linked below."


def documents_reply(ev: ProductEvidence, kinds: Sequence[str]) -> str:
    docs = [d for d in ev.documents if d.kind in kinds]
    listed = "; ".join(f"{d.title}" + (f" ({d.ref})" if d.ref else "") for d in docs[:4])
    return f"Here are the documents for {ev.sku}: {listed}."


def troubleshooting_reply(ev: ProductEvidence) -> str:
    manuals = [d for d in ev.documents if d.kind == "manual"]
    where = f"the {manuals[0].title}" if manuals else "its datasheet"
    return (
        f"For {ev.sku}, start with the troubleshooting steps in {where}: check the supply and ratings against "
        "your operating conditions and look for installation issues. If it persists, tell me what you see."
    )


_SHOWN = [
    "torque",
    "voltage",
    "power",
    "speed",
    "ratio",
    "ip",
    "pressure",
    "flow",
    "temperature",
    "head",
    "thread",
    "material",
    "bore",
    "outer_diameter",
    "dynamic_load",
    "poles",
    "size",
    "length",
    "output",
    "sensing_range",
    "atex",
    "mounting",
    "medium",
]
