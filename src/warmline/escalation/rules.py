"""Escalation proposals from the words of the conversation: rule cues and the intent model, combined.

For every escalation-sensitive intent the confidence is a noisy-or of the two sources:
``1 - (1 - r) * (1 - p)`` where ``r`` is ``[model] rule_confidence`` when a rule cue matched
(a phrase list hit outside a negation, a policy threshold) and 0 otherwise, and ``p`` is the
model's calibrated probability for the intent(s) that mean the same thing. A proposal is
made when the confidence reaches ``[model] threshold``; its signals say which source fired
(``model_intent`` with the probability, and/or the rule's own signal), so the packet
explains itself. Rules that are not about words stay rules alone: quantity thresholds,
account tiers, rephrasing and comparison counts. The AI path and retrieval confidence are
in ``assist.py``; the order between reasons is the policy's ``escalate.order``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from warmline.domain.packet import AccountFacts, ReasonCategory
from warmline.escalation import signals as sig
from warmline.escalation.classifier import IntentScores
from warmline.escalation.cues import INTENT_VALUES, PERSON_KIND
from warmline.escalation.intents import Intent, IntentResult
from warmline.escalation.models import Outcome
from warmline.escalation.policy import ModelRules, Policy
from warmline.escalation.state import Proposal, State
from warmline.escalation.text import tokens

# Model classes that are the engine's intents (the rest map to reasons directly below).
MODEL_INTENTS = {
    "lookup": Intent.LOOKUP,
    "compatibility": Intent.COMPATIBILITY,
    "troubleshooting": Intent.TROUBLESHOOTING,
    "substitution": Intent.SUBSTITUTION,
    "recommendation": Intent.RECOMMENDATION,
    "comparison": Intent.COMPARISON,
    "document_request": Intent.DOCUMENT_REQUEST,
    "quote_request": Intent.QUOTE_REQUEST,
    "urgent_support": Intent.URGENT_SUPPORT,
    "complex_specification": Intent.COMPLEX_SPECIFICATION,
    "exception_handling": Intent.EXCEPTION_HANDLING,
    "order_change": Intent.ORDER_STATUS_CHANGE,
}
ROUTINE = (
    "lookup",
    "compatibility",
    "troubleshooting",
    "substitution",
    "recommendation",
    "comparison",
    "document_request",
)
LIVE_CLASSES = {
    "order_status": "order_status",
    "order_change": "order_status",
    "lead_time": "lead_time",
    "stock": "stock",
    "pricing": "pricing",
}
_LIVE_ORDER = ["order_status", "lead_time", "stock", "quote_status", "pricing", "entitlements"]


def merged_intent(rules: IntentResult, model: IntentScores | None, settings: ModelRules) -> IntentResult:
    """The rules' intents plus the model's: "other" from the cues gives way to a confident model."""
    if model is None or not settings.enabled:
        return rules
    scores = dict(rules.scores)
    cues = {k: list(v) for k, v in rules.cues.items()}
    for name, intent in MODEL_INTENTS.items():
        p = model.p(name)
        if p >= settings.threshold:
            scores[intent] = max(scores.get(intent, 0.0), 4.0 * p)
            cues.setdefault(intent, []).append(f"model p={p:.2f}")
    best = rules.intent
    if best is Intent.OTHER:
        name, p = model.top
        if name in MODEL_INTENTS and p >= settings.routine_threshold:
            best = MODEL_INTENTS[name]
    return IntentResult(best, scores, cues)


def combine(rule_hit: bool, p: float, settings: ModelRules) -> float:
    """Noisy-or of a rule cue and the model's probability."""
    r = settings.rule_confidence if rule_hit else 0.0
    return 1.0 - (1.0 - r) * (1.0 - p)


@dataclass
class RuleOutcome:
    proposals: list[Proposal] = field(default_factory=list)
    observed: list[sig.Signal] = field(default_factory=list)
    enterprise: bool = False
    assisted: bool = False
    tier_signals: list[sig.Signal] = field(default_factory=list)


class RuleBook:
    """Builds the word- and account-driven escalation proposals for the current turn."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy

    def _p(self, scores: IntentScores | None, *classes: str) -> tuple[float, str]:
        if scores is None or not self.policy.model.enabled:
            return 0.0, ""
        return max(((scores.p(c), c) for c in classes), default=(0.0, ""))

    def _model_signal(self, name: str, p: float, seq: int) -> sig.Signal:
        return sig.Signal(name="model_intent", value=name, detail=f"intent model: {name} p={p:.2f}", turn=seq)

    def _add(
        self,
        out: RuleOutcome,
        rule: list[sig.Signal],
        classes: tuple[str, ...],
        seq: int,
        reason: ReasonCategory,
        sub: str,
        model_scores: IntentScores | None,
        **kw,
    ) -> bool:
        """Propose ``reason`` when the rule cue and the model together reach the threshold."""
        p, name = self._p(model_scores, *classes)
        confidence = combine(bool(rule), p, self.policy.model)
        if confidence < self.policy.model.threshold:
            return False
        signals = list(rule)
        if p >= 0.05:
            signals.append(self._model_signal(name, p, seq))
        out.proposals.append(
            Proposal(Outcome.ESCALATE, reason, sub, signals=signals, confidence=round(confidence, 4), **kw)
        )
        return True

    def propose(self, state: State, account: AccountFacts, texts: list[sig.TurnText]) -> RuleOutcome:
        policy = self.policy
        out = RuleOutcome()
        cur = state.current
        reading = cur.reading
        scores = reading.model
        seq = cur.turn.seq
        text = cur.turn.body

        # a person, asked for in any words
        self._add(
            out,
            reading.explicit,
            ("person_request",),
            seq,
            ReasonCategory.EXPLICIT_REQUEST,
            person_kind(text),
            scores,
        )

        # business rules: regulated words (any buyer turn), quantity thresholds, account tiers
        regulated = [s for info in state.buyer for s in info.reading.regulated]
        if policy.regulated_terms:
            sub = str(regulated[0].value) if regulated else "regulated"
            self._add(out, regulated, ("regulated",), seq, ReasonCategory.POLICY_RULE, sub, scores)
        family = cur.families[0] if cur.families else state.family()
        for q in cur.quantities:
            over = sig.quantity_over_threshold(q.amount, family, policy.business.threshold_for(family), seq)
            if over:
                out.proposals.append(
                    Proposal(
                        Outcome.ESCALATE,
                        ReasonCategory.POLICY_RULE,
                        "quantity_threshold",
                        signals=over,
                        context={"quantity": f"{q.amount:g} {q.unit}"},
                    )
                )
                break
        tiers = sig.account_tier(
            account.tier, account.enterprise, policy.accounts.enterprise_tiers, policy.accounts.assisted_tiers
        )
        for s in tiers:
            s.turn = seq
        out.observed += tiers
        out.tier_signals = tiers
        out.enterprise = any(s.name == "enterprise_account" for s in tiers)
        out.assisted = any(s.name == "assisted_tier" for s in tiers)
        if out.enterprise and any(
            cur.intent.has(Intent(i)) for i in policy.accounts.enterprise_intents if i in INTENT_VALUES
        ):
            out.proposals.append(
                Proposal(
                    Outcome.ESCALATE,
                    ReasonCategory.POLICY_RULE,
                    "enterprise_account",
                    signals=[s for s in tiers if s.name == "enterprise_account"],
                )
            )

        # purchase intent (asking after an existing quote is live data, not a new quote)
        live = list(reading.live)
        quote_status = any(s.value == "quote_status" for s in live)
        rule_intent = cur.rule_intent or cur.intent
        quote_rule = (
            [_cue_signal(rule_intent, Intent.QUOTE_REQUEST, seq)]
            if rule_intent.has(Intent.QUOTE_REQUEST)
            else []
        )
        made = not quote_status and self._add(
            out, quote_rule, ("quote_request",), seq, ReasonCategory.PURCHASE_INTENT, "quote_request", scores
        )
        if not made and not quote_status:
            for sub, found in reading.purchase.items():
                if sub == "urgent_need" and not (
                    cur.intent.has(Intent.URGENT_SUPPORT) or "spec" in text.lower()
                ):
                    continue
                rule = [
                    sig.Signal(name="purchase_intent", value=sub, detail=f"\u201c{found[0]}\u201d", turn=seq)
                ]
                if self._add(out, rule, ("order_intent",), seq, ReasonCategory.PURCHASE_INTENT, sub, scores):
                    made = True
                    break
            if not made:
                self._add(
                    out, [], ("order_intent",), seq, ReasonCategory.PURCHASE_INTENT, "order_intent", scores
                )

        # live business data
        if cur.intent.has(Intent.ORDER_STATUS_CHANGE) and not any(s.value == "order_status" for s in live):
            live.insert(
                0,
                sig.Signal(
                    name="live_data", value="order_status", detail="order status with a change", turn=seq
                ),
            )
        live.sort(
            key=lambda s: _LIVE_ORDER.index(str(s.value)) if s.value in _LIVE_ORDER else len(_LIVE_ORDER)
        )
        _, name = self._p(scores, *LIVE_CLASSES)
        if live:
            sub = str(live[0].value)
        else:
            sub = LIVE_CLASSES.get(name, "live_data")
            if sub == "order_status" and "quot" in text.lower():
                sub = "quote_status"
        self._add(
            out,
            live,
            tuple(LIVE_CLASSES),
            seq,
            ReasonCategory.LIVE_DATA,
            sub,
            scores,
            context={"region": cur.region or ""},
        )

        # conversation: frustration, rephrasing, broad comparisons, system design, exceptions
        self._add(
            out, reading.frustration, ("frustration",), seq, ReasonCategory.COMPLEXITY, "frustration", scores
        )
        rephrased = sig.rephrasing(
            texts, policy.conversation.rephrase_similarity, policy.conversation.rephrase_times
        )
        if rephrased:
            out.proposals.append(
                Proposal(Outcome.ESCALATE, ReasonCategory.COMPLEXITY, "repeated_question", signals=rephrased)
            )
        compared = cur.skus if len(cur.skus) > 1 else []
        if cur.intent.has(Intent.COMPARISON) or len(cur.skus) > policy.conversation.max_compared_products:
            broad = sig.too_many_products(
                compared,
                list(cur.families) if cur.intent.has(Intent.COMPARISON) else [],
                policy.conversation.max_compared_products,
                policy.conversation.max_compared_families,
                seq,
            )
            if broad:
                out.proposals.append(
                    Proposal(Outcome.ESCALATE, ReasonCategory.COMPLEXITY, "broad_comparison", signals=broad)
                )
        system_rule = []
        if reading.system or rule_intent.intent is Intent.COMPLEX_SPECIFICATION:
            cue = (
                reading.system[0]
                if reading.system
                else ", ".join(rule_intent.cues.get(Intent.COMPLEX_SPECIFICATION, []))
            )
            system_rule = [
                sig.Signal(name="complex_specification", value=cue, detail=f"\u201c{cue}\u201d", turn=seq)
            ]
        self._add(
            out,
            system_rule,
            ("complex_specification",),
            seq,
            ReasonCategory.COMPLEXITY,
            "system_design",
            scores,
        )
        exception_rule = []
        if rule_intent.intent is Intent.EXCEPTION_HANDLING:
            exception_rule = [_cue_signal(rule_intent, Intent.EXCEPTION_HANDLING, seq)]
        self._add(
            out,
            exception_rule,
            ("exception_handling",),
            seq,
            ReasonCategory.COMPLEXITY,
            "exception_handling",
            scores,
        )
        return out


def _cue_signal(result: IntentResult, intent: Intent, seq: int) -> sig.Signal:
    cues = result.cues.get(intent, [])
    return sig.Signal(name="intent", value=intent.value, detail=", ".join(cues[:3]), turn=seq)


def person_kind(text: str) -> str:
    """Who the buyer asked for: sales, engineer, support, or just a person."""
    words = " ".join(tokens(text))
    for kind, cues in PERSON_KIND:
        if any(c in words for c in cues):
            return kind
    return "person"
