"""The escalation engine: for each buyer turn, answer, clarify, offer a next step or hand off.

``decide`` is stateless over the transcript: it reads every turn so far, grounds the
current one in the catalog, computes signals (``signals.py``), and applies the policy
(``policy.py``) in a fixed order. The AI's own path lives in ``assist.py``; escalations
carry a packet (``packets.py``) and routing (``routing.py``). With an optional language
model the reply is rephrased; its facts are not.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

from warmline.domain.models import AuthorKind
from warmline.domain.packet import AccountFacts, ReasonCategory, SourceDocument
from warmline.escalation import phrasing
from warmline.escalation import signals as sig
from warmline.escalation.assist import AssistPath
from warmline.escalation.cues import INTENT_VALUES, PERSON_KIND, PURCHASE_CUES, SYSTEM_DESIGN
from warmline.escalation.extract import extract_facts
from warmline.escalation.grounding import CatalogGrounder, CatalogLike
from warmline.escalation.intents import Intent, classify
from warmline.escalation.models import Decision, Outcome, Turn
from warmline.escalation.packets import PacketInput, build_packet
from warmline.escalation.policy import Policy
from warmline.escalation.query import search_query
from warmline.escalation.routing import route
from warmline.escalation.state import Proposal, State, TurnInfo, dedupe, intent_signal
from warmline.escalation.taxonomy import FamilyTerms
from warmline.escalation.text import PhraseSet, tokens

log = logging.getLogger(__name__)


class EscalationEngine:
    """Chooses answer, clarify, next step or escalate for each buyer turn."""

    def __init__(
        self, policy: Policy | None = None, catalog: CatalogLike | None = None, llm: Any = None
    ) -> None:
        self.policy = policy or Policy.load()
        self.catalog = catalog
        self.llm = llm
        self.terms = FamilyTerms.load()
        self.assist = AssistPath(self.policy, catalog)
        self._regulated = {k: PhraseSet(v) for k, v in self.policy.regulated_terms.items()}
        self._live = {k: PhraseSet(v) for k, v in self.policy.live_data.items()}

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
                facts = extract_facts(turn.body, turn.seq)
                known, unknown, closest = await grounder.known_skus(turn.body)
                families = []
                for sku in known:
                    ev = await grounder.evidence(sku)
                    if ev is not None and ev.family:
                        families.append(ev.family)
                families += self.terms.families_in(turn.body)
                buyer.append(
                    TurnInfo(
                        turn=turn,
                        intent=classify(turn.body),
                        constraints=facts.constraints,
                        quantities=facts.quantities,
                        urgency=facts.urgency,
                        region=facts.region,
                        skus=known,
                        unknown_skus=unknown,
                        closest=closest,
                        families=list(dict.fromkeys(families)),
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
        text = cur.turn.body
        texts = [sig.TurnText(t.seq, t.author_kind, t.body) for t in state.turns]
        proposals: list[Proposal] = []
        observed: list[sig.Signal] = []

        explicit = sig.explicit_request(text, seq)
        if explicit:
            proposals.append(
                Proposal(
                    Outcome.ESCALATE,
                    ReasonCategory.EXPLICIT_REQUEST,
                    self._person_kind(text),
                    signals=explicit,
                )
            )

        # business rules
        regulated: list[sig.Signal] = []
        for info in state.buyer:
            regulated += sig.category_terms(info.turn.body, self._regulated, info.turn.seq)
        if regulated:
            first = regulated[0]
            proposals.append(
                Proposal(Outcome.ESCALATE, ReasonCategory.POLICY_RULE, str(first.value), signals=regulated)
            )
        family = cur.families[0] if cur.families else state.family()
        for q in cur.quantities:
            over = sig.quantity_over_threshold(q.amount, family, policy.business.threshold_for(family), seq)
            if over:
                proposals.append(
                    Proposal(
                        Outcome.ESCALATE,
                        ReasonCategory.POLICY_RULE,
                        "quantity_threshold",
                        signals=over,
                        context={"quantity": f"{q.amount:g} {q.unit}"},
                    )
                )
                break
        tier_signals = sig.account_tier(
            account.tier, account.enterprise, policy.accounts.enterprise_tiers, policy.accounts.assisted_tiers
        )
        for s in tier_signals:
            s.turn = seq
        observed += tier_signals
        enterprise = any(s.name == "enterprise_account" for s in tier_signals)
        assisted = any(s.name == "assisted_tier" for s in tier_signals)
        intent = self._current_intent(state)
        if enterprise and any(
            cur.intent.has(Intent(i)) for i in policy.accounts.enterprise_intents if i in INTENT_VALUES
        ):
            proposals.append(
                Proposal(
                    Outcome.ESCALATE,
                    ReasonCategory.POLICY_RULE,
                    "enterprise_account",
                    signals=[s for s in tier_signals if s.name == "enterprise_account"],
                )
            )

        # purchase intent (asking after an existing quote is live data, not a new quote)
        live = sig.live_data_needs(text, self._live, seq)
        quote_status = any(s.value == "quote_status" for s in live)
        if cur.intent.has(Intent.QUOTE_REQUEST) and not quote_status:
            proposals.append(
                Proposal(
                    Outcome.ESCALATE,
                    ReasonCategory.PURCHASE_INTENT,
                    "quote_request",
                    signals=[intent_signal(cur, Intent.QUOTE_REQUEST)],
                )
            )
        else:
            for sub, phrases in PURCHASE_CUES.items():
                found = phrases.affirmed(text)
                if sub == "urgent_need" and not (
                    cur.intent.has(Intent.URGENT_SUPPORT) or "spec" in text.lower()
                ):
                    continue
                if found:
                    proposals.append(
                        Proposal(
                            Outcome.ESCALATE,
                            ReasonCategory.PURCHASE_INTENT,
                            sub,
                            signals=[
                                sig.Signal(
                                    name="purchase_intent",
                                    value=sub,
                                    detail=f"\u201c{found[0]}\u201d",
                                    turn=seq,
                                )
                            ],
                        )
                    )
                    break

        # live business data
        if cur.intent.has(Intent.ORDER_STATUS_CHANGE):
            live.insert(
                0,
                sig.Signal(
                    name="live_data", value="order_status", detail="order status with a change", turn=seq
                ),
            )
        if live:
            order = ["order_status", "lead_time", "stock", "quote_status", "pricing", "entitlements"]
            live.sort(key=lambda s: order.index(str(s.value)) if s.value in order else len(order))
            ctx = {"region": cur.region or ""}
            proposals.append(
                Proposal(
                    Outcome.ESCALATE, ReasonCategory.LIVE_DATA, str(live[0].value), signals=live, context=ctx
                )
            )

        # conversation
        frustrated = sig.frustration(text, seq)
        if frustrated:
            proposals.append(
                Proposal(Outcome.ESCALATE, ReasonCategory.COMPLEXITY, "frustration", signals=frustrated)
            )
        rephrased = sig.rephrasing(
            texts, policy.conversation.rephrase_similarity, policy.conversation.rephrase_times
        )
        if rephrased:
            proposals.append(
                Proposal(Outcome.ESCALATE, ReasonCategory.COMPLEXITY, "repeated_question", signals=rephrased)
            )
        compared = cur.skus if len(cur.skus) > 1 else []
        if cur.intent.has(Intent.COMPARISON) or len(cur.skus) > policy.conversation.max_compared_products:
            families = [f for f in cur.families]
            broad = sig.too_many_products(
                compared,
                families if cur.intent.has(Intent.COMPARISON) else [],
                policy.conversation.max_compared_products,
                policy.conversation.max_compared_families,
                seq,
            )
            if broad:
                proposals.append(
                    Proposal(Outcome.ESCALATE, ReasonCategory.COMPLEXITY, "broad_comparison", signals=broad)
                )
        system = SYSTEM_DESIGN.affirmed(text)
        if system or cur.intent.intent is Intent.COMPLEX_SPECIFICATION:
            cue = system[0] if system else ", ".join(cur.intent.cues.get(Intent.COMPLEX_SPECIFICATION, []))
            proposals.append(
                Proposal(
                    Outcome.ESCALATE,
                    ReasonCategory.COMPLEXITY,
                    "system_design",
                    signals=[
                        sig.Signal(
                            name="complex_specification", value=cue, detail=f"\u201c{cue}\u201d", turn=seq
                        )
                    ],
                )
            )
        if cur.intent.intent is Intent.EXCEPTION_HANDLING:
            proposals.append(
                Proposal(
                    Outcome.ESCALATE,
                    ReasonCategory.COMPLEXITY,
                    "exception_handling",
                    signals=[intent_signal(cur, Intent.EXCEPTION_HANDLING)],
                )
            )

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

        chosen = self._choose(proposals)
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
            )
        return await self._escalate(chosen, base, state, account, intent, all_signals, grounder)

    def _choose(self, proposals: list[Proposal]) -> Proposal | None:
        order = self.policy.escalate.order
        enabled = [
            p
            for p in proposals
            if p.outcome is Outcome.ESCALATE
            and p.reason is not None
            and self.policy.escalate.enabled(p.reason)
        ]
        if not enabled:
            return None
        return min(enabled, key=lambda p: order.index(p.reason))  # type: ignore[arg-type]

    def _current_intent(self, state: State) -> Intent:
        """The current turn's intent; a bare answer to a question inherits the goal's intent."""
        cur = state.current
        if cur.intent.intent is not Intent.OTHER:
            return cur.intent.intent
        for info in reversed(state.buyer[:-1]):
            if info.intent.intent is not Intent.OTHER:
                return info.intent.intent
        return Intent.OTHER

    def _person_kind(self, text: str) -> str:
        words = " ".join(tokens(text))
        for kind, cues in PERSON_KIND:
            if any(c in words for c in cues):
                return kind
        return "person"

    # --- escalating -------------------------------------------------------------------

    async def _escalate(
        self,
        chosen: Proposal,
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
            sub_reason=chosen.sub_reason,
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
