"""How the decision combines rule cues and the intent model (docs/escalation.md, "Rules and model").

Confidence of an escalation-sensitive intent = 1 - (1 - r) * (1 - p), r = rule_confidence when a
rule cue matched, p = the model's calibrated probability; a handoff is proposed at >= threshold.
Every decision names its sources in the signals; when two reasons apply the packet lists both,
the primary one by the policy's precedence.
"""

from __future__ import annotations

import pytest

from warmline.escalation.engine import EscalationEngine
from warmline.escalation.policy import ModelRules, Policy
from warmline.escalation.rules import combine

from .conftest import Chat


def _engine(engine: EscalationEngine, *, model: bool = True, **settings: float) -> EscalationEngine:
    policy = Policy.load()
    for key, value in settings.items():
        setattr(policy.model, key, value)
    return EscalationEngine(policy=policy, catalog=engine.catalog, model="default" if model else None)


def test_noisy_or_of_rule_and_model() -> None:
    rules = ModelRules(rule_confidence=0.8, threshold=0.5)
    assert combine(False, 0.0, rules) == 0.0
    assert combine(True, 0.0, rules) == pytest.approx(0.8)
    assert combine(False, 0.6, rules) == pytest.approx(0.6)
    assert combine(True, 0.5, rules) == pytest.approx(0.9)


async def test_the_model_catches_what_no_phrase_list_does(engine: EscalationEngine) -> None:
    rules_only = _engine(engine, model=False)
    typo = "id really prefer chatting w/ an actual humanbeing"
    assert not (await Chat(rules_only).say(typo)).escalates, "the cue lists miss this wording"
    decision = await Chat(engine).say(typo)
    assert decision.reason.value == "explicit_request"
    sources = {s.name for s in decision.signals}
    assert "model_intent" in sources and "explicit_request" not in sources
    model = next(s for s in decision.signals if s.name == "model_intent")
    assert model.value == "person_request" and "p=" in model.detail
    assert any("person_request p=" in n.text for n in decision.packet.confidence_notes), "the packet explains"
    assert decision.confidence is not None and decision.confidence >= 0.5


async def test_a_rule_cue_and_the_model_reinforce_each_other(engine: EscalationEngine) -> None:
    text = "Can I talk to an applications engineer about the GX-220?"
    both = await Chat(engine).say(text)
    assert both.reason.value == "explicit_request"
    assert {"explicit_request", "model_intent"} <= {s.name for s in both.signals}

    # a stricter threshold than the rule alone: the rule needs the model's agreement
    strict_rules_only = _engine(engine, model=False, threshold=0.85)
    assert not (await Chat(strict_rules_only).say(text)).escalates
    strict = _engine(engine, threshold=0.85)
    assert (await Chat(strict).say(text)).reason.value == "explicit_request"


async def test_negations_stay_with_the_ai_under_both_sources(engine: EscalationEngine) -> None:
    for text in (
        "No need for a person, just tell me the IP rating of the GX-220.",
        "I'm not asking about price, what's the torque of the GX-220?",
    ):
        decision = await Chat(engine).say(text)
        assert not decision.escalates, (text, decision.reason, [s.name for s in decision.signals])


async def test_two_reasons_primary_by_precedence_both_in_the_packet(engine: EscalationEngine) -> None:
    decision = await Chat(engine).say("We need 50 GX-220 gearboxes, please send a formal quotation.")
    assert decision.reason.value == "policy_rule" and decision.sub_reason == "quantity_threshold"
    assert "purchase_intent" in [r.value for r in decision.secondary_reasons]
    assert decision.packet.secondary_reasons == decision.secondary_reasons


async def test_rules_that_are_not_about_words_stay_rules(engine: EscalationEngine) -> None:
    without_model = _engine(engine, model=False)
    for chat_engine in (engine, without_model):
        decision = await Chat(chat_engine).say("We need 50 of the GX-220.")
        assert decision.reason.value == "policy_rule" and decision.sub_reason == "quantity_threshold"
