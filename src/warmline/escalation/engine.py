"""The escalation engine: for each buyer turn, answer, clarify, offer a next step or hand off.

``decide`` is stateless over the transcript: it reads every turn so far, grounds the
current one in the catalog, computes signals (``signals.py``), and applies the policy
(``policy.py``) in a fixed order. The AI's own path lives in ``assist.py``; escalations
carry a packet (``packets.py``) and routing (``routing.py``). With an optional language
model the reply is rephrased; its facts are not.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from typing import Any

from warmline.domain.models import AuthorKind
from warmline.domain.packet import AccountFacts, ReasonCategory, SourceDocument
from warmline.escalation import phrasing
from warmline.escalation import signals as sig
from warmline.escalation.assist import AssistPath
from warmline.escalation.classifier import IntentModel, default_model
from warmline.escalation.grounding import CatalogGrounder, CatalogLike
from warmline.escalation.intents import Intent
from warmline.escalation.models import Decision, Outcome, Turn
from warmline.escalation.packets import PacketInput, build_packet
from warmline.escalation.policy import Policy
from warmline.escalation.query import search_query
from warmline.escalation.reading import Lexicon, MessageReader, Reading
from warmline.escalation.routing import route
from warmline.escalation.rules import RuleBook, merged_intent
from warmline.escalation.state import Proposal, State, TurnInfo, dedupe
from warmline.escalation.taxonomy import FamilyTerms
from warmline.escalation.text import PhraseSet

log = logging.getLogger(__name__)


class EscalationEngine:
    """Chooses answer, clarify, next step or escalate for each buyer turn."""

    def __init__(
        self,
        policy: Policy | None = None,
        catalog: CatalogLike | None = None,
        llm: Any = None,
        *,
        model: IntentModel | str | None = "default",
        judge: Any = None,
    ) -> None:
        self.policy = policy or Policy.load()
        self.catalog = catalog
        self.llm = llm
        self.judge = judge
        self.terms = FamilyTerms.load()
        self.assist = AssistPath(self.policy, catalog)
        self.rules = RuleBook(self.policy)
        if model == "default":
            model = default_model() if self.policy.model.enabled else None
        self.model: IntentModel | None = model if isinstance(model, IntentModel) else None
        lexicon = Lexicon(
            regulated={k: PhraseSet(v) for k, v in self.policy.regulated_terms.items()},
            live={k: PhraseSet(v) for k, v in self.policy.live_data.items()},
            terms=self.terms,
            model=self.model,
        )
        self.reader = MessageReader(lexicon, self.policy.engine.turn_budget_ms)

    async def decide(self, turns: Sequence[Any], account: AccountFacts | None = None) -> Decision:
        """Decide what the AI does with the last buyer turn of this transcript."""
        account = account or AccountFacts()
        visible = [t for t in (Turn.coerce(x) for x in turns) if not t.internal]
        visible.sort(key=lambda t: t.seq)
        if not any(t.author_kind == AuthorKind.BUYER for t in visible):
            raise ValueError("turns: needs at least one buyer turn to decide on")
        grounder = CatalogGrounder(self.catalog)
        state = await self._read(visible, grounder)
        decision = await self._decide(state, account, grounder)
        if self.llm is not None:
            decision = await self._rephrase(decision)
        return decision

    # --- reading the conversation -----------------------------------------------------

    async def _read(self, turns: list[Turn], grounder: CatalogGrounder) -> State:
        buyer: list[TurnInfo] = []
        ai_skus: dict[str, int] = {}
        for turn in turns:
            # only buyer turns up to the last one count; later AI/agent turns are context
            if turn.author_kind == AuthorKind.BUYER:
                reading = await self.reader.read(turn.body, turn.seq)
                facts = reading.facts
                known, unknown, closest = await grounder.known_skus(turn.body)
                families = []
                for sku in known:
                    ev = await grounder.evidence(sku)
                    if ev is not None and ev.family:
                        families.append(ev.family)
                families += reading.families
                buyer.append(
                    TurnInfo(
                        turn=turn,
                        intent=merged_intent(reading.intent, reading.model, self.policy.model),
                        constraints=list(facts.constraints) if facts else [],
                        quantities=list(facts.quantities) if facts else [],
                        urgency=facts.urgency if facts else None,
                        region=facts.region if facts else None,
                        skus=known,
                        unknown_skus=unknown,
                        closest=closest,
                        families=list(dict.fromkeys(families)),
                        reading=reading,
                        rule_intent=reading.intent,
                    )
                )
            elif turn.author_kind in (AuthorKind.AI, AuthorKind.AGENT):
                known, _, _ = await grounder.known_skus(turn.body)
                for sku in known:
                    ai_skus.setdefault(sku, turn.seq)
        last_buyer = max(i.turn.seq for i in buyer)
        return State(turns=[t for t in turns if t.seq <= last_buyer], buyer=buyer, ai_skus=ai_skus)

    # --- deciding ---------------------------------------------------------------------

    async def _decide(self, state: State, account: AccountFacts, grounder: CatalogGrounder) -> Decision:
        policy = self.policy
        cur = state.current
        seq = cur.turn.seq
        texts = [sig.TurnText(t.seq, t.author_kind, t.body) for t in state.turns]
        ruled = self.rules.propose(state, account, texts)
        proposals = ruled.proposals
        observed = list(ruled.observed)
        observed += _reading_notes(cur.reading)
        enterprise, assisted, tier_signals = ruled.enterprise, ruled.assisted, ruled.tier_signals
        del enterprise
        intent = self._current_intent(state)

        # the AI's own path: answer, clarify, next step, or low confidence
        base = await self.assist.propose(state, intent, grounder, observed)
        if base.outcome is Outcome.CLARIFY:
            loop = sig.clarification_loop(texts, policy.conversation.max_clarifications)
            if loop:
                proposals.append(
                    Proposal(
                        Outcome.ESCALATE,
                        ReasonCategory.COMPLEXITY,
                        "clarification_loop",
                        signals=loop,
                        unresolved=base.unresolved,
                    )
                )
        if (
            base.outcome in (Outcome.ANSWER, Outcome.NEXT_STEP)
            and assisted
            and intent.value in policy.accounts.assisted_intents
        ):
            proposals.append(
                Proposal(
                    Outcome.ESCALATE,
                    ReasonCategory.POLICY_RULE,
                    "assisted_service",
                    signals=[s for s in tier_signals if s.name == "assisted_tier"],
                    focus=base.focus,
                )
            )
        if base.outcome is Outcome.ESCALATE:
            proposals.append(base)
        # a discontinued part being replaced: policy, whatever the base path said
        for sku in self.assist.focus_skus(state):
            ev = await grounder.evidence(sku)
            if ev is None or not (
                intent in (Intent.SUBSTITUTION, Intent.COMPATIBILITY) or cur.intent.has(Intent.SUBSTITUTION)
            ):
                continue
            life = sig.lifecycle_replacement(ev, policy.safety_critical_families, seq)
            if life:
                sub = life[0].name
                proposals.append(
                    Proposal(
                        Outcome.ESCALATE,
                        ReasonCategory.POLICY_RULE,
                        sub,
                        signals=life,
                        context={"sku": ev.sku, "status": ev.status},
                        focus=[ev.sku],
                    )
                )
                break

        chosen, also = self._choose(proposals)
        if self.judge is not None and policy.judge.mode != "off":
            chosen, also, judged = await self._consult(chosen, also, state)
            observed += judged
        # the AI path's own notes count only when it decided, or when it was not itself a handoff
        base_counts = chosen is None or chosen is base or base.outcome is not Outcome.ESCALATE
        all_signals = dedupe(
            [
                *observed,
                *(s for p in proposals if p is not base for s in p.signals),
                *(base.signals if base_counts else []),
            ]
        )
        if chosen is None:
            return Decision(
                outcome=base.outcome,
                intent=intent.value,
                turn=seq,
                signals=all_signals,
                reply=base.reply,
                sources=await self._sources(base.focus, grounder, state),
                confidence=round(1.0 - _escalation_pressure(cur.reading), 4),
            )
        return await self._escalate(chosen, also, base, state, account, intent, all_signals, grounder)

    def _choose(self, proposals: list[Proposal]) -> tuple[Proposal | None, list[ReasonCategory]]:
        """The primary handoff by the policy's precedence, and the other reasons that also apply."""
        order = self.policy.escalate.order
        enabled = [
            p
            for p in proposals
            if p.outcome is Outcome.ESCALATE
            and p.reason is not None
            and self.policy.escalate.enabled(p.reason)
        ]
        if not enabled:
            return None, []
        ranked = sorted(enabled, key=lambda p: (order.index(p.reason), -p.confidence))  # type: ignore[arg-type]
        chosen = ranked[0]
        also = [
            r for r in dict.fromkeys(p.reason for p in ranked[1:]) if r is not None and r != chosen.reason
        ]
        return chosen, also

    async def _consult(
        self, chosen: Proposal | None, also: list[ReasonCategory], state: State
    ) -> tuple[Proposal | None, list[ReasonCategory], list[sig.Signal]]:
        """Ask the language-model judge when the policy says so; combine; fall back on any failure."""
        rules = self.policy.judge
        seq = state.current.turn.seq
        confidence = chosen.confidence if chosen else 1.0 - _escalation_pressure(state.current.reading)
        firm = chosen is not None and chosen.reason in _FIRM_REASONS
        if firm or (rules.mode == "tie_break" and confidence >= rules.tie_band):
            return chosen, also, []
        if rules.mode == "veto_unnecessary" and chosen is None:
            return chosen, also, []
        local = (
            f"escalate ({chosen.reason}, confidence {confidence:.2f})"
            if chosen
            else (f"no handoff (confidence {confidence:.2f})")
        )
        transcript = [(t.author_kind.value, t.body) for t in state.turns]
        try:
            opinion = await asyncio.wait_for(self.judge.opinion(transcript, local), rules.timeout_seconds)
        except Exception as exc:  # the judge is optional: any failure keeps the local decision
            log.warning("language-model judge unavailable, keeping the local decision: %s", exc)
            note = sig.Signal(name="llm_judge_unavailable", value=rules.mode, detail=str(exc)[:300], turn=seq)
            return chosen, also, [note]
        says = f"{opinion.outcome}{f' ({opinion.reason.value})' if opinion.reason else ''}"
        note = sig.Signal(
            name="llm_judge",
            value=says,
            detail=f"{rules.mode}: judge {says}, confidence {opinion.confidence:.2f}; "
            f"evidence \u201c{opinion.evidence[:300]}\u201d",
            turn=seq,
        )
        wants = opinion.outcome == "escalate"
        if rules.mode == "veto_unnecessary":
            if not wants and opinion.confidence >= rules.veto_confidence:
                return None, [], [note]
            return chosen, also, [note]
        # tie-break: the judge's outcome wins in the uncertain band
        if wants and chosen is None:
            reason = opinion.reason or ReasonCategory.COMPLEXITY
            if self.policy.escalate.enabled(reason):
                judged = Proposal(
                    Outcome.ESCALATE,
                    reason,
                    "llm_judge",
                    signals=[note],
                    confidence=round(opinion.confidence, 4),
                )
                return judged, [], [note]
        if not wants and chosen is not None:
            return None, [], [note]
        return chosen, also, [note]

    def _current_intent(self, state: State) -> Intent:
        """The current turn's intent; a bare answer to a question inherits the goal's intent."""
        cur = state.current
        if cur.intent.intent is not Intent.OTHER:
            return cur.intent.intent
        for info in reversed(state.buyer[:-1]):
            if info.intent.intent is not Intent.OTHER:
                return info.intent.intent
        return Intent.OTHER

    # --- escalating -------------------------------------------------------------------

    async def _escalate(
        self,
        chosen: Proposal,
        also: list[ReasonCategory],
        base: Proposal,
        state: State,
        account: AccountFacts,
        intent: Intent,
        all_signals: list[sig.Signal],
        grounder: CatalogGrounder,
    ) -> Decision:
        assert chosen.reason is not None
        focus = chosen.focus or base.focus or self.assist.focus_skus(state)
        context = {**base.context, **chosen.context}
        if "sku" not in context and focus:
            context["sku"] = focus[0]
        summary = phrasing.summary_for(chosen.reason, chosen.sub_reason, context)
        evidence = {
            s: e
            for s in dict.fromkeys([*state.skus(), *state.ai_skus, *focus])
            if (e := await grounder.evidence(s))
        }
        hits = await grounder.search(
            search_query(state.current.turn.body, state.family(), state.constraints())
        )
        packet = build_packet(
            PacketInput(
                reason=chosen.reason,
                sub_reason=chosen.sub_reason,
                secondary=also,
                summary=summary,
                state=state,
                account=account,
                evidence=evidence,
                hits=hits,
                signals=all_signals,
                unresolved=[
                    *chosen.unresolved,
                    *(base.unresolved if base.outcome is not Outcome.CLARIFY else []),
                ],
                focus=focus,
                policy=self.policy,
            )
        )
        skills, priority = route(packet, intent.value, policy=self.policy)
        return Decision(
            outcome=Outcome.ESCALATE,
            reason=chosen.reason,
            secondary_reasons=also,
            sub_reason=chosen.sub_reason,
            confidence=chosen.confidence,
            intent=intent.value,
            turn=state.current.turn.seq,
            signals=all_signals,
            reply=phrasing.handoff_reply(packet),
            sources=packet.documents,
            packet=packet,
            required_skills=skills,
            priority=priority,
        )

    async def _sources(
        self, focus: list[str], grounder: CatalogGrounder, state: State
    ) -> list[SourceDocument]:
        kinds = set(self.policy.retrieval.authoritative_kinds)
        sources: list[SourceDocument] = []
        for sku in focus[:4]:
            ev = await grounder.evidence(sku)
            if ev is None:
                continue
            for doc in ev.documents:
                if doc.kind in kinds:
                    sources.append(
                        SourceDocument(
                            title=doc.title[:300],
                            kind=doc.kind,
                            sku=ev.sku,
                            ref=doc.ref[:500],
                            source_turn=state.current.turn.seq,
                        )
                    )
        return sources

    async def _rephrase(self, decision: Decision) -> Decision:
        """Let the language model word the reply; keep the deterministic one if it fails or drifts."""
        try:
            text = await self.llm.rephrase(decision.reply, outcome=decision.outcome.value)
        except Exception as exc:
            log.warning("language model unavailable, keeping the deterministic reply: %s", exc)
            return decision
        if not text or not _keeps_facts(decision.reply, text, decision.outcome):
            return decision
        return decision.model_copy(update={"reply": text})


def _keeps_facts(original: str, rephrased: str, outcome: Outcome) -> bool:
    """A rephrasing must keep every SKU and number and the question/statement form."""
    facts = set(re.findall(r"\b[A-Z]{1,5}-\d[\w-]*\b|\d+(?:[.,]\d+)?", original))
    if any(f not in rephrased for f in facts):
        return False
    return rephrased.strip().endswith("?") == (outcome is Outcome.CLARIFY)


# Reasons a judge never overturns: the buyer asked for a person, or a configured rule applies.
_FIRM_REASONS = (ReasonCategory.EXPLICIT_REQUEST, ReasonCategory.POLICY_RULE)
# Model classes whose probability argues for a handoff (the decision's confidence when it stays).
ESCALATION_CLASSES = (
    "person_request",
    "quote_request",
    "order_intent",
    "stock",
    "pricing",
    "lead_time",
    "order_status",
    "order_change",
    "complex_specification",
    "exception_handling",
    "regulated",
    "frustration",
)


def _escalation_pressure(reading: Reading | None) -> float:
    """The model's strongest probability for an escalation-sensitive intent on this turn."""
    if reading is None or reading.model is None:
        return 0.0
    return max(reading.model.p(c) for c in ESCALATION_CLASSES)


def _reading_notes(reading: Reading | None) -> list[sig.Signal]:
    """Say so when the message could not be read whole within the budget, and what was skipped."""
    if reading is None or not reading.skipped:
        return []
    return [
        sig.Signal(
            name="reading_budget_exceeded",
            value=",".join(reading.skipped),
            detail=f"message not read whole within {reading.budget_ms:g} ms; decided without: "
            f"{', '.join(reading.skipped)}",
            turn=reading.seq,
        )
    ]
