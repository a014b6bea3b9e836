"""The packet builder: the structured context that makes a handoff warm.

Every item points at the transcript turn it came from (``source_turn`` = message seq),
so the console can jump there.
"""

from __future__ import annotations

from dataclasses import dataclass

from warmline.domain.packet import (
    MAX_ITEMS,
    AccountFacts,
    Constraint,
    HandoffPacket,
    Note,
    ProductRef,
    ReasonCategory,
    SourceDocument,
)
from warmline.escalation.intents import Intent
from warmline.escalation.policy import Policy
from warmline.escalation.signals import ProductEvidence, RetrievalHit, Signal
from warmline.escalation.state import State

_CONFIDENCE_SIGNALS = {
    "weak_retrieval",
    "source_disagreement",
    "missing_attributes",
    "no_authoritative_document",
    "marketing_only",
    "unverified_compatibility",
    "substitute_note",
    "no_substitute",
    "unknown_part_number",
    # how the decision was reached, so the packet explains itself: the intent model's probability,
    # the language-model judge's opinion, and a message read only in part within the time budget
    "model_intent",
    "llm_judge",
    "llm_judge_unavailable",
    "reading_budget_exceeded",
}
_CURRENT_WORDS = (
    "replace",
    "replacement",
    "current",
    "existing",
    "old",
    "installed",
    "discontinued",
    "substitute",
)


@dataclass
class PacketInput:
    reason: ReasonCategory
    sub_reason: str
    secondary: list[ReasonCategory]
    summary: str
    state: State
    account: AccountFacts
    evidence: dict[str, ProductEvidence]
    hits: list[RetrievalHit]
    signals: list[Signal]
    unresolved: list[str]
    focus: list[str]
    policy: Policy


def build_packet(data: PacketInput) -> HandoffPacket:
    """Assemble the packet from the conversation state, catalog evidence and the signals."""
    state = data.state
    current = state.current
    goal_info = next(
        (i for i in state.buyer if i.intent.intent is not Intent.OTHER or i.families or i.skus),
        state.buyer[0],
    )
    products = _products(data)
    constraints = list(state.constraints())
    for s in data.signals:
        if s.name == "regulated_category":
            constraints.append(
                Constraint(
                    name="certification",
                    value=str(s.value).upper() if s.value == "atex" else str(s.value).replace("_", " "),
                    source_turn=s.turn,
                )
            )
    quantities = [q for info in state.buyer for q in info.quantities]
    urgency_info = next((i for i in reversed(state.buyer) if i.urgency), None)
    region_info = next((i for i in reversed(state.buyer) if i.region), None)
    account = data.account.model_copy()
    if region_info and not account.region:
        account = account.model_copy(update={"region": region_info.region})
    family = (current.families[0] if current.families else None) or state.family()
    if not family and products:
        family = products[0].family
    notes = [
        Note(text=s.detail[:2000] or s.name, source_turn=s.turn)
        for s in data.signals
        if s.name in _CONFIDENCE_SIGNALS and (s.detail or s.name)
    ]
    unresolved = [
        Note(text=text[:2000], source_turn=current.turn.seq)
        for text in dict.fromkeys(data.unresolved)
        if text
    ]
    question = current.turn.body.strip()
    if not any(n.text == question for n in unresolved):
        unresolved.append(
            Note(text=f"Buyer's last message: \u201c{question[:1900]}\u201d", source_turn=current.turn.seq)
        )
    urgency, urgency_turn = "", None
    if urgency_info:
        urgency, urgency_turn = urgency_info.urgency, urgency_info.turn.seq
    return HandoffPacket(
        reason=data.reason,
        secondary_reasons=list(data.secondary),
        sub_reason=data.sub_reason,
        summary=data.summary,
        goal=goal_info.turn.body.strip()[:2000],
        goal_turn=goal_info.turn.seq,
        product_family=family or "",
        products=products[:MAX_ITEMS],
        constraints=constraints[:MAX_ITEMS],
        documents=_documents(data)[:MAX_ITEMS],
        confidence_notes=notes[:MAX_ITEMS],
        unresolved=unresolved[:MAX_ITEMS],
        account=account,
        urgency=urgency[:200],
        urgency_turn=urgency_turn,
        quantities=quantities[:MAX_ITEMS],
        signals=list(dict.fromkeys(s.name for s in data.signals))[:MAX_ITEMS],
    )


def _products(data: PacketInput) -> list[ProductRef]:
    state = data.state
    refs: dict[str, ProductRef] = {}
    for info in state.buyer:
        lowered = info.turn.body.lower()
        for sku in info.skus:
            if sku in refs:
                continue
            ev = data.evidence.get(sku)
            role = "mentioned"
            if ev is not None and ev.status in {"discontinued", "superseded"}:
                role = "discontinued"
            elif any(w in lowered for w in _CURRENT_WORDS) and info.intent.has(Intent.SUBSTITUTION):
                role = "current"
            refs[sku] = _ref(sku, ev, role, info.turn.seq)
    for sku, seq in state.ai_skus.items():
        if sku not in refs:
            refs[sku] = _ref(sku, data.evidence.get(sku), "candidate", seq)
    for sku in data.focus:
        if sku not in refs and sku in data.evidence:
            refs[sku] = _ref(sku, data.evidence[sku], "candidate", state.current.turn.seq)
    return list(refs.values())


def _ref(sku: str, ev: ProductEvidence | None, role: str, seq: int) -> ProductRef:
    return ProductRef(
        sku=sku[:100],
        name=(ev.name if ev else "")[:300],
        family=(ev.family if ev else "")[:100],
        role=role,
        source_turn=seq,
    )


def _documents(data: PacketInput) -> list[SourceDocument]:
    """Documents of the products discussed, with the best retrieval score seen for each."""
    scores: dict[tuple[str, str], float] = {}
    by_sku: dict[str, float] = {}
    for hit in data.hits:
        by_sku[hit.sku] = max(by_sku.get(hit.sku, 0.0), hit.score)
        if hit.doc_title:
            key = (hit.sku, hit.doc_title)
            scores[key] = max(scores.get(key, 0.0), hit.score)
    seq = data.state.current.turn.seq
    docs: list[SourceDocument] = []
    for sku, ev in data.evidence.items():
        for doc in ev.documents:
            score = scores.get((sku, doc.title), by_sku.get(sku))
            docs.append(
                SourceDocument(
                    title=doc.title[:300],
                    kind=doc.kind[:50],
                    sku=sku[:100],
                    ref=doc.ref[:500],
                    score=round(score, 3) if score is not None else None,
                    source_turn=seq,
                )
            )
    docs.sort(key=lambda d: (-(d.score or 0.0), d.sku or "", d.title))
    return docs
