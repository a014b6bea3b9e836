"""The escalation engine: for each buyer turn, answer, clarify, offer a next step or hand off.

``decide`` is stateless over the transcript: it reads every turn so far, grounds the
current one in the catalog, computes signals (``signals.py``), and applies the policy
(``policy.py``) in a fixed order. Escalations carry a packet (``packets.py``) and routing
(``routing.py``). With an optional language model the reply is rephrased; its facts are not.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from warmline.domain.models import AuthorKind
from warmline.domain.packet import AccountFacts, Constraint, Quantity, ReasonCategory, SourceDocument
from warmline.escalation import phrasing
from warmline.escalation import signals as sig
from warmline.escalation.extract import extract_facts
from warmline.escalation.fit import fit_score
from warmline.escalation.grounding import CatalogGrounder, CatalogLike
from warmline.escalation.intents import Intent, IntentResult, classify
from warmline.escalation.models import Decision, Outcome, Turn
from warmline.escalation.packets import PacketInput, build_packet
from warmline.escalation.policy import Policy
from warmline.escalation.routing import route
from warmline.escalation.taxonomy import FamilyTerms
from warmline.escalation.text import PhraseSet, content_tokens, tokens

log = logging.getLogger(__name__)

_PURCHASE_CUES = {
    "order_intent": PhraseSet(
        [
            "place an order",
            "place the order",
            "ready to order",
            "want to order",
            "we'll order",
            "we will order",
            "ready to buy",
            "want to buy",
            "purchase order",
            "send a po",
            "issue a po",
            "buy it",
            "order it",
            "go ahead and order",
        ]
    ),
    "standardization": PhraseSet(
        [
            "standardize",
            "standardise",
            "standardizing",
            "standardising",
            "multiple sites",
            "across sites",
            "all our sites",
            "all our plants",
            "every site",
            "roll out",
            "rollout",
            "fleet wide",
            "company wide",
            "company-wide",
        ]
    ),
    "urgent_need": PhraseSet(
        [
            "spec this today",
            "help me spec",
            "today",
            "asap",
            "urgent",
            "urgently",
            "line is down",
            "line down",
            "production stopped",
            "avoid downtime",
            "downtime",
            "machine down",
            "standstill",
            "emergency",
        ]
    ),
}
_SYSTEM_DESIGN = PhraseSet(
    [
        "full assembly",
        "complete system",
        "whole system",
        "system design",
        "full system",
        "entire line",
        "design the",
        "custom",
        "modified",
        "tailor-made",
        "engineered to order",
        "application review",
        "complete skid",
        "full package",
        "turnkey",
    ]
)
_INSTALLATION = PhraseSet(
    [
        "our current",
        "our existing",
        "existing",
        "current unit",
        "current one",
        "installed",
        "our old",
        "old unit",
        "our machine",
        "our line",
        "our setup",
        "our system",
        "our installation",
        "in place",
        "we have now",
        "we use now",
        "currently use",
        "mounting pattern",
        "bolt pattern",
        "footprint",
        "shaft",
        "flange",
        "fit our",
    ]
)
_PERSON_KIND = [
    ("sales", ("sales", "rep", "representative", "account manager", "salesperson")),
    ("engineer", ("engineer", "technician", "expert", "specialist")),
    ("support", ("support",)),
]
_REFERENT = re.compile(
    r"\b(this|that|it|its|these|those|them|they|the same)\b(?!\s+(month|week|year|morning|quarter))", re.I
)
# Pronouns that point back at a product already under discussion ("what's its IP rating?",
# "is it stainless?"). "that" is left out: it is mostly a relative pronoun ("a pump that ...").
_BACK_REFERENCE = re.compile(r"\b(it|its|it's|they|them|their|this one|that one|the same one)\b", re.I)
# A turn that continues the previous one without naming its product: "and the mounting?",
# "what about the weight", "also, ...".
_ELLIPSIS = re.compile(r"^\W*(and|also|what about|how about|plus|same for)\b", re.I)
# Words that point from a superseded product to the one that replaced it.
_SUCCESSOR = PhraseSet(
    [
        "successor",
        "the replacement",
        "its replacement",
        "the new one",
        "the newer one",
        "the new model",
        "the current model",
        "the newer model",
        "what replaces",
        "what replaced",
        "replaced by",
        "took its place",
    ],
    max_gap=0,
)
_ASKED_ATTRIBUTES = {
    "torque": ["torque", "nm"],
    "voltage": ["voltage", "volt", "volts"],
    "ip": ["ip rating", "ip", "ingress", "waterproof", "washdown rated"],
    "pressure": ["pressure", "bar", "psi"],
    "temperature": ["temperature", "temp", "heat"],
    "flow": ["flow", "flow rate", "capacity"],
    "speed": ["speed", "rpm"],
    "ratio": ["ratio", "reduction"],
    "thread": ["thread", "port"],
    "material": ["material", "stainless", "brass", "made of"],
    "mounting": [
        "mounting",
        "mounted",
        "mounting pattern",
        "bolt pattern",
        "flange",
        "footprint",
        "shaft",
        "hollow shaft",
    ],
    "bore": ["bore", "inner diameter"],
    "outer_diameter": ["outer diameter", "outside diameter", "od"],
    "width": ["width", "how wide", "wide is"],
    "seal": ["sealed", "seal type", "shielded", "shields"],
    "current": [
        "rated current",
        "current rating",
        "nominal current",
        "max current",
        "amps",
        "amperage",
        "current draw",
    ],
    "washdown": ["washdown", "wash down", "wash-down"],
    "head": ["head", "delivery head"],
    "dynamic_load": ["load rating", "dynamic load", "load"],
    "mass": ["weight", "mass", "heavy"],
    "power": ["power", "kw"],
    "atex": ["atex", "ex rating"],
    "medium": ["fluid", "medium", "media", "glycol", "oil"],
    "poles": ["pins", "poles", "pin", "contacts", "number of contacts"],
    "length": ["length", "long"],
    "output": ["output signal", "output type", "signal"],
    "sensing_range": ["sensing range", "range", "distance"],
}
_ASKED_SETS = {k: PhraseSet(v, max_gap=0) for k, v in _ASKED_ATTRIBUTES.items()}
_SEARCH_FILTERS = {
    "voltage",
    "torque",
    "ip",
    "pressure",
    "flow",
    "temperature",
    "bore",
    "power",
    "thread",
    "poles",
    "head",
    "outer_diameter",
    "width",
}
# A stated requirement that answers a clarifying question about another attribute: a pump's
# delivery head ("30 m head") is its pressure requirement.
_SATISFIES = {"head": "pressure"}
_INTENT_VALUES = {i.value for i in Intent}
# Intents whose turn, naming a product, is answered from that product's data ("right now"
# makes a question urgent, not a catalog-wide search).
_LOOKUP_INTENTS = (Intent.LOOKUP, Intent.OTHER, Intent.DOCUMENT_REQUEST, Intent.URGENT_SUPPORT)
# How many search hits the shortlist ranking looks at (one spec sheet each).
_RANK_POOL = 8
_OPS = {"≥": ">=", "≤": "<=", ">": ">", "<": "<"}


@dataclass
class TurnInfo:
    """What the engine read from one buyer turn."""

    turn: Turn
    intent: IntentResult
    constraints: list[Constraint]
    quantities: list[Quantity]
    urgency: str | None
    region: str | None
    skus: list[str]
    unknown_skus: list[str]
    closest: dict[str, list[str]]
    families: list[str]


@dataclass
class State:
    """The conversation so far, as facts with the turn each came from."""

    turns: list[Turn]
    buyer: list[TurnInfo]
    ai_skus: dict[str, int] = field(default_factory=dict)  # SKU the AI offered -> seq

    @property
    def current(self) -> TurnInfo:
        return self.buyer[-1]

    def constraints(self) -> list[Constraint]:
        """Buyer constraints, the latest statement of each attribute winning."""
        latest: dict[str, Constraint] = {}
        for info in self.buyer:
            for c in info.constraints:
                latest[c.name] = c
        return list(latest.values())

    def skus(self) -> list[str]:
        found: dict[str, None] = {}
        for info in self.buyer:
            for s in info.skus:
                found.setdefault(s, None)
        return list(found)

    def family(self) -> str | None:
        for info in reversed(self.buyer):
            if info.families:
                return info.families[0]
        return None


@dataclass
class Proposal:
    """A candidate outcome before the policy orders them."""

    outcome: Outcome
    reason: ReasonCategory | None = None
    sub_reason: str = ""
    reply: str = ""
    signals: list[sig.Signal] = field(default_factory=list)
    context: dict[str, str] = field(default_factory=dict)
    focus: list[str] = field(default_factory=list)  # SKUs the outcome is about
    unresolved: list[str] = field(default_factory=list)


class EscalationEngine:
    """Chooses answer, clarify, next step or escalate for each buyer turn."""

    def __init__(
        self, policy: Policy | None = None, catalog: CatalogLike | None = None, llm: Any = None
    ) -> None:
        self.policy = policy or Policy.load()
        self.catalog = catalog
        self.llm = llm
        self.terms = FamilyTerms.load()
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
            cur.intent.has(Intent(i)) for i in policy.accounts.enterprise_intents if i in _INTENT_VALUES
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
                    signals=[_intent_signal(cur, Intent.QUOTE_REQUEST)],
                )
            )
        else:
            for sub, phrases in _PURCHASE_CUES.items():
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
        system = _SYSTEM_DESIGN.affirmed(text)
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
                    signals=[_intent_signal(cur, Intent.EXCEPTION_HANDLING)],
                )
            )

        # the AI's own path: answer, clarify, next step, or low confidence
        base = await self._assist(state, intent, grounder, observed)
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
        for sku in self._focus_skus(state):
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
        all_signals = _dedupe(
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

    def _focus_skus(self, state: State) -> list[str]:
        """The products the current turn is about: named now, else named before, else offered by the AI."""
        if state.current.skus:
            return state.current.skus
        named = state.skus()
        if named:
            return named[-2:]
        return list(state.ai_skus)[-3:]

    def _refers_back(self, state: State) -> bool:
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
        if _BACK_REFERENCE.search(text) or _SUCCESSOR.matches(text):
            return True
        numeric = any(re.search(r"\d", c.value) for c in cur.constraints)
        return bool(_ELLIPSIS.match(text)) and not numeric

    async def _successor_of(self, sku: str, grounder: CatalogGrounder) -> str | None:
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

    # --- the AI path ------------------------------------------------------------------

    async def _assist(
        self, state: State, intent: Intent, grounder: CatalogGrounder, observed: list[sig.Signal]
    ) -> Proposal:
        """What the AI would do on its own: answer, clarify, a next step, or low confidence."""
        policy = self.policy
        cur = state.current
        seq = cur.turn.seq
        text = cur.turn.body
        focus = self._focus_skus(state)
        family = (cur.families[0] if cur.families else None) or state.family()
        if not family and focus:
            ev = await grounder.evidence(focus[0])
            family = ev.family if ev else None
        constraints = _in_family_terms(state.constraints(), family)
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
            referent = bool(_REFERENT.search(text))
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
                referent = bool(_REFERENT.search(text))
                return Proposal(
                    Outcome.CLARIFY,
                    reply=phrasing.which_product_reply(referent, [], {}),
                    signals=weak,
                    unresolved=["which product the buyer means"],
                )

        certifications = sig.certification_claims(text)
        if certifications and focus:
            # a certification claim is answered only from a certificate or attribute on file
            target = focus[0]
            if self._refers_back(state) and _SUCCESSOR.matches(text):
                target = await self._successor_of(target, grounder) or target
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
            notes = self._evidence_signals(evidence, [], seq)
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

        if focus and intent in _LOOKUP_INTENTS and self._refers_back(state):
            # a follow-up about the product in the thread, not a new catalog-wide search
            target = focus[0]
            if _SUCCESSOR.matches(text):
                target = await self._successor_of(target, grounder) or target
            return await self._lookup(state, [target], grounder)

        if focus and intent in _LOOKUP_INTENTS and (cur.skus or not cur.constraints):
            return await self._lookup(state, focus, grounder)

        # recommend from a family: clarify what is missing, then shortlist
        required = policy.clarify.get(family or "", [])
        have = {c.name for c in constraints}
        have |= {_SATISFIES[n] for n in have if n in _SATISFIES}
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
        asked = _asked_attributes(state.current.turn.body, ev, state.current.constraints)
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
            referent = bool(_REFERENT.search(text))
            return Proposal(
                Outcome.CLARIFY,
                reply=phrasing.which_product_reply(referent, [], {}),
                unresolved=["which product the compatibility question is about"],
            )
        evidence = [e for e in [await grounder.evidence(s) for s in focus] if e]
        installation = _INSTALLATION.matches(text)
        asked = [k for k, phrases in _ASKED_SETS.items() if phrases.matches(text)]
        notes = self._evidence_signals(evidence, asked, seq)
        if installation or len(evidence) < 2:
            detail = installation[0] if installation else "compatibility with equipment outside the catalog"
            attr = next((a for a in asked if a in {"mounting", "thread", "bore", "voltage"}), "")
            unresolved = (
                f"Compatibility of {phrasing.join([e.sku for e in evidence], 'or')} with the existing "
                f"{attr.replace('_', ' ') + ' ' if attr else ''}installation is unconfirmed"
            )
            return Proposal(
                Outcome.ESCALATE,
                ReasonCategory.LOW_CONFIDENCE,
                "unverified_compatibility",
                signals=[
                    *notes,
                    sig.Signal(
                        name="unverified_compatibility",
                        value=detail,
                        detail="depends on installation details the catalog lacks",
                        turn=seq,
                    ),
                ],
                focus=[e.sku for e in evidence],
                unresolved=[unresolved],
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
        return Proposal(
            Outcome.ESCALATE,
            ReasonCategory.LOW_CONFIDENCE,
            "unverified_compatibility",
            signals=[
                *notes,
                sig.Signal(
                    name="unverified_compatibility",
                    value=f"{a.sku}~{b.sku}",
                    detail="no catalog relation between the two products",
                    turn=seq,
                ),
            ],
            focus=[a.sku, b.sku],
            unresolved=[f"Compatibility of {a.sku} with {b.sku} is unconfirmed"],
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
        usable = [c for c in constraints if c.name in _SEARCH_FILTERS]
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
        query = _search_query(state.current.turn.body, family, constraints)
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
        notes = self._evidence_signals(list(evidence.values()), [], seq)
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
        candidates = hits[:_RANK_POOL]
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

    def _evidence_signals(self, evidence: list[Any], asked: list[str], seq: int) -> list[sig.Signal]:
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

    def _person_kind(self, text: str) -> str:
        words = " ".join(tokens(text))
        for kind, cues in _PERSON_KIND:
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
        focus = chosen.focus or base.focus or self._focus_skus(state)
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
            _search_query(state.current.turn.body, state.family(), state.constraints())
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


def _asked_attributes(text: str, ev: sig.ProductEvidence | None, stated: Sequence[Constraint]) -> list[str]:
    """The attributes a lookup asks about, in the order asked, so every one gets an answer.

    Named attributes ("rated current and IP class") come from their cue words; a value
    stated about the product ("is the X IP66?", "is it stainless?") asks for that attribute
    too, when the catalog holds it.
    """
    words = tokens(text)
    found: list[tuple[int, str]] = []
    for name, phrases in _ASKED_SETS.items():
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


def _in_family_terms(constraints: list[Constraint], family: str | None) -> list[Constraint]:
    """Read a bare size the way the family is sized: an "8 mm push-in fitting" is for 8 mm tube."""
    if family != "pneumatic_fitting" or any(c.name == "tube_size" for c in constraints):
        return constraints
    out = []
    for c in constraints:
        m = re.fullmatch(r"(\d{1,2}(?:\.\d)?)\s?mm", c.value.strip()) if c.name == "dimension" else None
        out.append(c.model_copy(update={"name": "tube_size", "value": m.group(1), "unit": "mm"}) if m else c)
    return out


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


def _intent_signal(info: TurnInfo, intent: Intent) -> sig.Signal:
    cues = info.intent.cues.get(intent, [])
    return sig.Signal(name="intent", value=intent.value, detail=", ".join(cues[:3]), turn=info.turn.seq)


_AT_LEAST = {"torque", "flow", "pressure", "power", "ip", "head"}
_EQUALS = {
    "voltage": "voltage",
    "temperature": "temperature",
    "bore": "bore",
    "outer_diameter": "outer_diameter",
    "width": "width",
    "tube_size": "tube_od",
    "poles": "poles",
    "thread": "thread",
    "length": "length",
    "washdown": "washdown",
}
_FILLER = {
    "need",
    "needs",
    "want",
    "use",
    "looking",
    "look",
    "find",
    "get",
    "something",
    "one",
    "ones",
    "some",
    "like",
    "good",
    "best",
    "recommend",
    "suggest",
    "should",
    "would",
    "could",
    "ok",
    "okay",
    "thanks",
    "hi",
    "hello",
    "yes",
    "also",
    "which",
    "what",
    "please",
    "mm",
    "bar",
    "nm",
    "v",
    "kw",
    "c",
}


def _search_query(text: str, family: str | None, constraints: Sequence[Constraint]) -> str:
    """Content words plus the catalog's filter syntax for the constraints it can check.

    Operating conditions become minimum ratings (a 6 bar line needs a valve rated >= 6 bar);
    identity attributes (voltage, thread, size) must match.
    """
    words = [w for w in content_tokens(text) if w not in _FILLER and len(w) > 2 and not re.search(r"\d", w)]
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
        elif c.name in _AT_LEAST:
            parts.append(f"{c.name}{_OPS.get(op, '>=') if op else '>='}{value}{unit}")
        elif c.name in _EQUALS and not op:
            parts.append(f"{_EQUALS[c.name]}:{value}{unit}")
    return " ".join(parts)


def _dedupe(signals: list[sig.Signal]) -> list[sig.Signal]:
    seen: set[tuple[str, str, int | None]] = set()
    out = []
    for s in signals:
        key = (s.name, str(s.value), s.turn)
        if key not in seen:
            seen.add(key)
            out.append(s)
    return out
