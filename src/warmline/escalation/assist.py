"""The AI's own path for a buyer turn: answer, clarify, a next step, or low confidence.

``AssistPath.propose`` is what the assistant would do without any escalation rule: look a
product up, check a compatibility or certification claim, list substitutes, compare, or
clarify then shortlist from the catalog. The engine (``engine``) weighs its proposal against
the rule and model signals.
"""

from __future__ import annotations

import re
from typing import Any

from warmline.domain.packet import Constraint, ReasonCategory
from warmline.escalation import phrasing
from warmline.escalation import signals as sig
from warmline.escalation.cues import (
    ASKED_SETS,
    BACK_REFERENCE,
    ELLIPSIS,
    INSTALLATION,
    LOOKUP_INTENTS,
    RANK_POOL,
    REFERENT,
    SATISFIES,
    SEARCH_FILTERS,
    SUCCESSOR,
)
from warmline.escalation.fit import fit_score
from warmline.escalation.grounding import CatalogGrounder, CatalogLike
from warmline.escalation.intents import Intent
from warmline.escalation.models import Outcome
from warmline.escalation.policy import Policy
from warmline.escalation.query import asked_attributes, in_family_terms, search_query
from warmline.escalation.state import Proposal, State


class AssistPath:
    """What the AI does on its own for the current turn, grounded in the catalog."""

    def __init__(self, policy: Policy, catalog: CatalogLike | None) -> None:
        self.policy = policy
        self.catalog = catalog

    def focus_skus(self, state: State) -> list[str]:
        """The products the current turn is about: named now, else named before, else offered by the AI."""
        if state.current.skus:
            return state.current.skus
        named = state.skus()
        if named:
            return named[-2:]
        return list(state.ai_skus)[-3:]

    def refers_back(self, state: State) -> bool:
        """The current turn names no product but points at the one under discussion.

        "what's its IP rating?", "and the successor?", "and the housing - is it stainless?"
        refer to the product the buyer named before (or the one product the AI offered);
        they are questions about it, not a new search. Numbers after "and ..." ("and for
        400 Nm?") refine a search instead.
        """
        cur = state.current
        if cur.skus or len(state.buyer) < 2:
            return False
        if not state.skus() and len(state.ai_skus) != 1:
            return False  # several products offered: "it" is ambiguous
        text = cur.turn.body
        if BACK_REFERENCE.search(text) or SUCCESSOR.matches(text):
            return True
        numeric = any(re.search(r"\d", c.value) for c in cur.constraints)
        return bool(ELLIPSIS.match(text)) and not numeric

    async def successor_of(self, sku: str, grounder: CatalogGrounder) -> str | None:
        """The product that replaced ``sku``, following the supersession chain to its end."""
        seen = {sku}
        current = sku
        for _ in range(6):
            ev = await grounder.evidence(current)
            if ev is None or not ev.superseded_by or ev.superseded_by in seen:
                break
            current = ev.superseded_by
            seen.add(current)
        return current if current != sku else None

    async def propose(
        self, state: State, intent: Intent, grounder: CatalogGrounder, observed: list[sig.Signal]
    ) -> Proposal:
        """What the AI would do on its own: answer, clarify, a next step, or low confidence."""
        policy = self.policy
        cur = state.current
        seq = cur.turn.seq
        text = cur.turn.body
        focus = self.focus_skus(state)
        family = (cur.families[0] if cur.families else None) or state.family()
        if not family and focus:
            ev = await grounder.evidence(focus[0])
            family = ev.family if ev else None
        constraints = in_family_terms(state.constraints(), family)
        prior_clarify = sig.clarification_streak(
            [sig.TurnText(t.seq, t.author_kind, t.body) for t in state.turns]
        )

        if cur.unknown_skus and not cur.skus:
            if prior_clarify >= 1:
                weak = sig.weak_retrieval([], policy.retrieval.weak_top_score, seq)
                return Proposal(
                    Outcome.ESCALATE,
                    ReasonCategory.LOW_CONFIDENCE,
                    "no_match",
                    signals=weak,
                    unresolved=[f"{cur.unknown_skus[0]} is not in the catalog"],
                )
            return Proposal(
                Outcome.CLARIFY,
                reply=phrasing.which_product_reply(False, cur.unknown_skus, cur.closest),
                signals=[sig.Signal(name="unknown_part_number", value=cur.unknown_skus[0], turn=seq)],
            )

        if not focus and not family:
            hits = await grounder.search(text)
            weak = sig.weak_retrieval(hits, policy.retrieval.weak_top_score, seq)
            referent = bool(REFERENT.search(text))
            # "this"/"it" with nothing named before points at something we cannot see: ask
            if (
                not referent
                and not weak
                and hits
                and intent in (Intent.LOOKUP, Intent.DOCUMENT_REQUEST, Intent.OTHER)
            ):
                family = hits[0].family
            else:
                if prior_clarify >= 2:
                    return Proposal(Outcome.ESCALATE, ReasonCategory.LOW_CONFIDENCE, "no_match", signals=weak)
                referent = bool(REFERENT.search(text))
                return Proposal(
                    Outcome.CLARIFY,
                    reply=phrasing.which_product_reply(referent, [], {}),
                    signals=weak,
                    unresolved=["which product the buyer means"],
                )

        reading = cur.reading
        certifications = reading.certifications if reading is not None else sig.certification_claims(text)
        if certifications and focus:
            # a certification claim is answered only from a certificate or attribute on file
            target = focus[0]
            if self.refers_back(state) and SUCCESSOR.matches(text):
                target = await self.successor_of(target, grounder) or target
            ev = await grounder.evidence(target)
            if ev is not None:
                return self._certification(ev, certifications, seq)

        if intent is Intent.COMPARISON and len(focus) >= 2:
            evidence = [
                e
                for e in [
                    await grounder.evidence(s) for s in focus[: policy.conversation.max_compared_products]
                ]
                if e
            ]
            notes = self.evidence_signals(evidence, [], seq)
            return Proposal(
                Outcome.NEXT_STEP, reply=phrasing.comparison_reply(evidence), signals=notes, focus=focus
            )

        if intent is Intent.COMPATIBILITY:
            return await self._compatibility(state, focus, family, grounder)

        if intent is Intent.TROUBLESHOOTING:
            if not focus:
                return Proposal(
                    Outcome.CLARIFY,
                    reply="Which product is affected? The part number from the "
                    "nameplate is enough, and what you see when it fails?",
                )
            earlier = [i for i in state.buyer[:-1] if i.intent.has(Intent.TROUBLESHOOTING)]
            if earlier:
                return Proposal(
                    Outcome.ESCALATE,
                    ReasonCategory.COMPLEXITY,
                    "unresolved_troubleshooting",
                    signals=[
                        sig.Signal(
                            name="unresolved_troubleshooting",
                            value=len(earlier) + 1,
                            detail="problem persists after first checks",
                            turn=seq,
                        )
                    ],
                    focus=focus,
                )
            ev = await grounder.evidence(focus[0])
            if ev is None:
                return Proposal(Outcome.CLARIFY, reply=phrasing.which_product_reply(False, [], {}))
            return Proposal(Outcome.NEXT_STEP, reply=phrasing.troubleshooting_reply(ev), focus=[ev.sku])

        if intent is Intent.DOCUMENT_REQUEST and focus:
            ev = await grounder.evidence(focus[0])
            if ev is not None:
                weak = _unverified(ev, policy, seq, f"an authoritative document for {ev.sku}")
                if weak is not None:
                    return weak
                return Proposal(
                    Outcome.NEXT_STEP,
                    reply=phrasing.documents_reply(ev, policy.retrieval.authoritative_kinds),
                    focus=[ev.sku],
                )

        if intent is Intent.SUBSTITUTION and focus and cur.skus:
            return await self._substitutes(state, focus[0], constraints, grounder)

        if focus and intent in LOOKUP_INTENTS and self.refers_back(state):
            # a follow-up about the product in the thread, not a new catalog-wide search
            target = focus[0]
            if SUCCESSOR.matches(text):
                target = await self.successor_of(target, grounder) or target
            return await self._lookup(state, [target], grounder)

        if focus and intent in LOOKUP_INTENTS and (cur.skus or not cur.constraints):
            return await self._lookup(state, focus, grounder)

        # recommend from a family: clarify what is missing, then shortlist
        required = policy.clarify.get(family or "", [])
        have = {c.name for c in constraints}
        have |= {SATISFIES[n] for n in have if n in SATISFIES}
        missing = [a for a in required if a not in have]
        if missing and not focus:
            return Proposal(
                Outcome.CLARIFY,
                reply=phrasing.clarify_reply(family, missing),
                signals=[
                    sig.Signal(
                        name="missing_requirements",
                        value=",".join(missing),
                        detail=f"needed to choose a {family}: {', '.join(missing)}",
                        turn=seq,
                    )
                ],
                unresolved=[f"{phrasing.ATTRIBUTE_WORDS.get(m, m)} not given" for m in missing],
            )
        if (
            focus
            and intent in (Intent.RECOMMENDATION, Intent.SUBSTITUTION, Intent.LOOKUP, Intent.OTHER)
            and not cur.constraints
        ):
            return await self._lookup(state, focus, grounder)
        return await self._shortlist(state, family, constraints, grounder)

    def _certification(self, ev: sig.ProductEvidence, certifications: list[str], seq: int) -> Proposal:
        """Answer a certification question from the evidence on file, or say it is not on file.

        With no certificate or attribute backing the claim, the datasheet is not an answer:
        the buyer needs the claim confirmed, so a person checks it (low confidence).
        """
        unsupported = sig.unsupported_certification(ev, certifications, seq)
        if unsupported:
            missing = [str(s.value).split(".", 1)[1] for s in unsupported]
            return Proposal(
                Outcome.ESCALATE,
                ReasonCategory.LOW_CONFIDENCE,
                "unsupported_certification",
                signals=unsupported,
                context={"sku": ev.sku, "certification": phrasing.join(missing, "or")},
                focus=[ev.sku],
                unresolved=[
                    f"Whether {ev.sku} holds {cert} certification (no certificate on file)"
                    for cert in missing
                ],
            )
        found = {cert: sig.certification_evidence(ev, cert) or "" for cert in certifications}
        return Proposal(
            Outcome.NEXT_STEP,
            reply=phrasing.certification_reply(ev, found),
            focus=[ev.sku],
            signals=[
                sig.Signal(name="certification_on_file", value=f"{ev.sku}.{cert}", detail=where, turn=seq)
                for cert, where in found.items()
            ],
        )

    async def _lookup(self, state: State, focus: list[str], grounder: CatalogGrounder) -> Proposal:
        policy = self.policy
        seq = state.current.turn.seq
        ev = await grounder.evidence(focus[0])
        if ev is None:
            return Proposal(Outcome.CLARIFY, reply=phrasing.which_product_reply(False, [], {}))
        asked = asked_attributes(state.current.turn.body, ev, state.current.constraints)
        conflicts = sig.source_disagreement(
            [ev], asked or policy.retrieval.key_attributes, seq, policy.retrieval.authoritative_kinds
        )
        if conflicts and (not asked or any(str(c.value).split(".", 1)[1] in asked for c in conflicts)):
            attr = str(conflicts[0].value).split(".", 1)[1]
            return Proposal(
                Outcome.ESCALATE,
                ReasonCategory.LOW_CONFIDENCE,
                "conflicting_sources",
                signals=conflicts,
                context={"sku": ev.sku, "attribute": attr},
                focus=[ev.sku],
                unresolved=[f"the correct {attr} of {ev.sku}"],
            )
        missing = sig.missing_attributes(ev, asked, seq) if asked else []
        if missing:
            attr = str(missing[0].value).split(",")[0]
            return Proposal(
                Outcome.ESCALATE,
                ReasonCategory.LOW_CONFIDENCE,
                "missing_attribute",
                signals=missing,
                context={"sku": ev.sku, "attribute": attr},
                focus=[ev.sku],
                unresolved=[f"the {attr} of {ev.sku}"],
            )
        weak = _unverified(ev, policy, seq, f"verified technical data for {ev.sku}")
        if weak is not None:
            return weak
        return Proposal(
            Outcome.ANSWER,
            reply=phrasing.answer_reply(ev, asked),
            focus=[ev.sku],
            signals=[sig.Signal(name="grounded_answer", value=ev.sku, detail=", ".join(asked), turn=seq)],
        )

    async def _compatibility(
        self, state: State, focus: list[str], family: str | None, grounder: CatalogGrounder
    ) -> Proposal:
        seq = state.current.turn.seq
        text = state.current.turn.body
        if not focus:
            referent = bool(REFERENT.search(text))
            return Proposal(
                Outcome.CLARIFY,
                reply=phrasing.which_product_reply(referent, [], {}),
                unresolved=["which product the compatibility question is about"],
            )
        evidence = [e for e in [await grounder.evidence(s) for s in focus] if e]
        installation = INSTALLATION.matches(text)
        asked = [k for k, phrases in ASKED_SETS.items() if phrases.matches(text)]
        notes = self.evidence_signals(evidence, asked, seq)
        if installation or len(evidence) < 2:
            detail = installation[0] if installation else "compatibility with equipment outside the catalog"
            attr = next((a for a in asked if a in {"mounting", "thread", "bore", "voltage"}), "")
            unresolved = (
                f"Compatibility of {phrasing.join([e.sku for e in evidence], 'or')} with the existing "
                f"{attr.replace('_', ' ') + ' ' if attr else ''}installation is unconfirmed"
            )
            return _unverified_compatibility(
                notes,
                sig.Signal(
                    name="unverified_compatibility",
                    value=detail,
                    detail="depends on installation details the catalog lacks",
                    turn=seq,
                ),
                [e.sku for e in evidence],
                unresolved,
            )
        # two catalog products: the catalog's relations decide
        a, b = evidence[0], evidence[1]
        related = await self._related(a.sku, b.sku, grounder)
        if related:
            return Proposal(
                Outcome.ANSWER,
                reply=f"Yes: {a.sku} and {b.sku} are listed as compatible ({related}).",
                focus=[a.sku, b.sku],
                signals=[
                    sig.Signal(name="catalog_relation", value=f"{a.sku}~{b.sku}", detail=related, turn=seq)
                ],
            )
        return _unverified_compatibility(
            notes,
            sig.Signal(
                name="unverified_compatibility",
                value=f"{a.sku}~{b.sku}",
                detail="no catalog relation between the two products",
                turn=seq,
            ),
            [a.sku, b.sku],
            f"Compatibility of {a.sku} with {b.sku} is unconfirmed",
        )

    async def _related(self, a: str, b: str, grounder: CatalogGrounder) -> str:
        if self.catalog is None:
            return ""
        try:
            sheet = await self.catalog.spec_sheet(a)
        except LookupError:
            return ""
        for rel in getattr(sheet, "relations", []):
            if rel.sku.upper() == b.upper():
                return rel.note or str(rel.kind)
        return ""

    async def _substitutes(
        self, state: State, sku: str, constraints: list[Constraint], grounder: CatalogGrounder
    ) -> Proposal:
        seq = state.current.turn.seq
        usable = [c for c in constraints if c.name in SEARCH_FILTERS]
        candidates = await grounder.substitutes(sku, usable)
        if not candidates:
            return Proposal(
                Outcome.ESCALATE,
                ReasonCategory.LOW_CONFIDENCE,
                "no_substitute",
                signals=[sig.Signal(name="no_substitute", value=sku, turn=seq)],
                context={"sku": sku},
                focus=[sku],
                unresolved=[f"a verified substitute for {sku}"],
            )
        top = candidates[:3]
        notes = [
            sig.Signal(name="substitute_note", value=c.product.sku, detail=c.confidence_note, turn=seq)
            for c in top
            if c.confidence_note
        ]
        listed = "; ".join(f"{c.product.sku} {c.product.name} ({c.why})" for c in top)
        return Proposal(
            Outcome.NEXT_STEP,
            reply=f"Possible substitutes for {sku}: {listed}. I can compare them with "
            f"{sku} side by side or send their datasheets.",
            signals=notes,
            focus=[sku, *(c.product.sku for c in top)],
        )

    async def _shortlist(
        self, state: State, family: str | None, constraints: list[Constraint], grounder: CatalogGrounder
    ) -> Proposal:
        policy = self.policy
        seq = state.current.turn.seq
        query = search_query(state.current.turn.body, family, constraints)
        hits = [h for h in await grounder.search(query) if h.status == "active"]
        if family:
            hits = [h for h in hits if h.family == family] or hits
        weak = sig.weak_retrieval(hits, policy.retrieval.weak_top_score, seq)
        filters_only = " ".join(p for p in query.split() if re.search(r"[:<>=]", p))
        if weak and " " in filters_only:
            # the words matched poorly, but the stated requirements may still pin products down
            hits = [h for h in await grounder.search(filters_only) if h.status == "active"]
            weak = sig.weak_retrieval(hits, policy.retrieval.weak_top_score, seq)
        if weak or not hits:
            return Proposal(
                Outcome.ESCALATE,
                ReasonCategory.LOW_CONFIDENCE,
                "no_match",
                signals=weak,
                unresolved=["a catalog product that meets the stated requirements"],
            )
        unique: dict[str, sig.RetrievalHit] = {}
        for h in hits:
            unique.setdefault(h.sku, h)
        top, evidence = await self._rank_by_fit(list(unique.values()), constraints, family, grounder)
        notes = self.evidence_signals(list(evidence.values()), [], seq)
        return Proposal(
            Outcome.NEXT_STEP,
            reply=phrasing.shortlist_reply(top, evidence, constraints),
            signals=[
                sig.Signal(
                    name="shortlist", value=len(top), detail=f"top score {top[0].score:.2f}", turn=seq
                ),
                *notes,
            ],
            focus=[h.sku for h in top],
        )

    async def _rank_by_fit(
        self,
        hits: list[sig.RetrievalHit],
        constraints: list[Constraint],
        family: str | None,
        grounder: CatalogGrounder,
    ) -> tuple[list[sig.RetrievalHit], dict[str, sig.ProductEvidence]]:
        """The shortlist: the closest fits to the stated constraints first, then search relevance.

        Search orders by text relevance and filters on the requirements; among the products
        that pass, a 400 N·m request should lead with 400 N·m parts, not a 750 N·m one, and an
        8 mm G1/4 request with 8 mm G1/4 parts. Candidates are the clear search leaders plus
        the rest of the first page, so a close fit with a weaker text match is not lost.
        """
        best = max(h.score for h in hits)
        candidates = hits[:RANK_POOL]
        evidence = {h.sku: e for h in candidates if (e := await grounder.evidence(h.sku))}

        def key(h: sig.RetrievalHit) -> tuple[float, float, int]:
            ev = evidence.get(h.sku)
            fit = fit_score(ev.attributes, constraints, family) if ev is not None else 0.0
            return (-round(fit, 6), -h.score, candidates.index(h))

        ranked = sorted(candidates, key=key)
        if not constraints:
            # nothing to fit: keep the clear leaders of the search, as before
            ranked = [h for h in ranked if h.score >= 0.85 * best]
        top = ranked[:3]
        return top, {h.sku: evidence[h.sku] for h in top if h.sku in evidence}

    def evidence_signals(self, evidence: list[Any], asked: list[str], seq: int) -> list[sig.Signal]:
        """Retrieval-quality notes on products that do not stop the AI but go to the reviewer."""
        policy = self.policy
        notes: list[sig.Signal] = []
        notes += sig.source_disagreement(evidence, policy.retrieval.key_attributes, seq)
        for ev in evidence:
            notes += sig.document_evidence(
                ev, policy.retrieval.authoritative_kinds, policy.retrieval.marketing_kinds, seq
            )
            if asked:
                notes += sig.missing_attributes(ev, asked, seq)
        return notes


def _unverified_compatibility(
    notes: list[sig.Signal], why: sig.Signal, focus: list[str], unresolved: str
) -> Proposal:
    """Escalate a compatibility question the catalog cannot confirm (``why`` says what is missing)."""
    return Proposal(
        Outcome.ESCALATE,
        ReasonCategory.LOW_CONFIDENCE,
        "unverified_compatibility",
        signals=[*notes, why],
        focus=focus,
        unresolved=[unresolved],
    )


def _unverified(ev: Any, policy: Policy, seq: int, unresolved: str) -> Proposal | None:
    """Escalate as low confidence when the SKU has no authoritative document (only marketing, or none)."""
    doc_signals = sig.document_evidence(
        ev, policy.retrieval.authoritative_kinds, policy.retrieval.marketing_kinds, seq
    )
    if not doc_signals:
        return None
    return Proposal(
        Outcome.ESCALATE,
        ReasonCategory.LOW_CONFIDENCE,
        "no_authoritative_document",
        signals=doc_signals,
        context={"sku": ev.sku},
        focus=[ev.sku],
        unresolved=[unresolved],
    )
