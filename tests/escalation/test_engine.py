"""The engine on the real demo catalog: outcomes, packets, routing, and the policy's effect."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from warmline.domain.models import AuthorKind, Message
from warmline.domain.packet import AccountFacts, Priority, ReasonCategory
from warmline.escalation.engine import EscalationEngine
from warmline.escalation.models import Outcome
from warmline.escalation.policy import Policy

from .conftest import Chat

NORDIC = AccountFacts(company="Nordic Conveyors AB", tier="enterprise", region="Sweden", enterprise=True)


async def test_gearbox_replacement_hands_off_with_a_warm_packet(engine_on_db: EscalationEngine) -> None:
    chat = Chat(engine_on_db, NORDIC)
    first = await chat.say("I need a replacement gearbox for our conveyor line")
    assert first.outcome is Outcome.CLARIFY
    assert "torque" in first.reply and "voltage" in first.reply and first.reply.endswith("?")

    second = await chat.say("400 V, IP65, washdown, at least 180 Nm. Delivery is needed this month.")
    assert second.outcome is Outcome.NEXT_STEP
    assert "GX-220" in second.reply and "GX-240" in second.reply
    assert {s.sku for s in second.sources} >= {"GX-220", "GX-240"}

    third = await chat.say("Will the GX-240 fit the mounting pattern of our current unit?")
    assert third.outcome is Outcome.ESCALATE
    assert third.reason is ReasonCategory.LOW_CONFIDENCE and third.sub_reason == "unverified_compatibility"
    packet = third.packet
    assert packet is not None
    assert packet.summary == (
        "This looks like a compatibility decision that should be checked against your installation details."
    )
    assert (
        third.reply.startswith(packet.summary) and "same" not in third.reply.lower()
    ) or "start over" in third.reply
    assert packet.goal == "I need a replacement gearbox for our conveyor line" and packet.goal_turn == 1
    assert packet.product_family == "gearbox"
    products = {p.sku: p for p in packet.products}
    assert products["GX-240"].source_turn == 5 and products["GX-220"].source_turn == 4  # buyer / AI shortlist
    assert products["GX-220"].role == "candidate"
    constraints = {c.name: c for c in packet.constraints}
    assert (constraints["voltage"].value, constraints["voltage"].unit) == ("400", "V")
    assert (constraints["torque"].value, constraints["torque"].unit) == ("≥ 180", "N·m")
    assert constraints["ip"].value == "IP65" and constraints["washdown"].value == "yes"
    assert all(c.source_turn == 3 for c in packet.constraints)
    assert packet.urgency == "this month" and packet.urgency_turn == 3
    assert any("mounting" in n.text and n.source_turn == 5 for n in packet.unresolved)
    assert any("250" in n.text for n in packet.confidence_notes)  # the GX-240 torque conflict travels along
    assert any(d.sku == "GX-240" and d.kind == "datasheet" and d.score is not None for d in packet.documents)
    assert packet.account.company == "Nordic Conveyors AB"
    assert "unverified_compatibility" in packet.signals
    assert third.required_skills == ["drives"]
    assert third.priority is Priority.HIGH  # enterprise account
    assert {s.name for s in third.signals} >= {"unverified_compatibility", "enterprise_account"}


async def test_routine_lookup_is_answered_from_the_datasheet(engine: EscalationEngine) -> None:
    decision = await Chat(engine, NORDIC).say("What's the rated torque of the GX-220?")
    assert decision.outcome is Outcome.ANSWER and decision.packet is None
    assert "220 N·m" in decision.reply
    assert any(s.title == "GX-220 datasheet" for s in decision.sources)


async def test_conflicting_technical_sources_escalate_a_lookup(engine: EscalationEngine) -> None:
    decision = await Chat(engine).say("What is the rated torque of the GX-240?")
    assert (decision.reason, decision.sub_reason) == (ReasonCategory.LOW_CONFIDENCE, "conflicting_sources")
    assert any(s.name == "source_disagreement" and "250" in s.detail for s in decision.signals)


async def test_brochure_claims_do_not_override_the_datasheet(engine: EscalationEngine) -> None:
    decision = await Chat(engine).say("What IP rating does the GX-220 have?")
    assert decision.outcome is Outcome.ANSWER and "IP65" in decision.reply


async def test_clarify_asks_only_for_what_is_missing(engine: EscalationEngine) -> None:
    chat = Chat(engine)
    first = await chat.say("Which pump should I use for this coolant loop?")
    assert first.outcome is Outcome.CLARIFY
    assert "flow rate" in first.reply and "pressure" in first.reply
    assert "fluid and" not in first.reply  # "coolant" was already said
    second = await chat.say("About 40 l/min at 3 bar, 45 °C")
    assert second.outcome is Outcome.NEXT_STEP and "pump" in second.reply
    assert second.sources and all(s.sku and s.sku[:2] in {"CP", "CF"} for s in second.sources)


async def test_referent_without_context_is_clarified(engine: EscalationEngine) -> None:
    decision = await Chat(engine).say("Do you have this in stainless?")
    assert decision.outcome is Outcome.CLARIFY and "Which product" in decision.reply


async def test_accepts_hub_messages_and_skips_internal_notes(engine: EscalationEngine) -> None:
    now = datetime.now(UTC)
    messages = [
        Message(id="m1", conversation_id="c", seq=1, author_kind=AuthorKind.BUYER, body="hi", created_at=now),
        Message(id="m2", conversation_id="c", seq=2, author_kind=AuthorKind.AGENT, body="talk to a person",
                internal=True, created_at=now),
        Message(id="m3", conversation_id="c", seq=3, author_kind=AuthorKind.BUYER,
                body="What's the rated torque of the GX-220?", created_at=now),
    ]  # fmt: skip
    decision = await engine.decide(messages, AccountFacts())
    assert decision.outcome is Outcome.ANSWER and decision.turn == 3


async def test_no_buyer_turn_is_a_clear_error(engine: EscalationEngine) -> None:
    with pytest.raises(ValueError, match="turns: needs at least one buyer turn"):
        await engine.decide([{"seq": 1, "author_kind": "ai", "body": "Hello"}], AccountFacts())


async def test_workspace_policy_can_keep_live_data_with_the_ai(demo_sqlite_url: str, tmp_path) -> None:
    from warmline.catalog.service import CatalogService, make_engine

    override = tmp_path / "policy.toml"
    override.write_text(
        "[escalate]\nlive_data = false\n[business]\nquantity_threshold = 5\n", encoding="utf-8"
    )
    db = make_engine(demo_sqlite_url)
    try:
        strict = EscalationEngine(policy=Policy.load(override), catalog=CatalogService(db))
        lead = await Chat(strict).say("What's the lead time for the GX-220 to Norway?")
        assert lead.outcome is not Outcome.ESCALATE
        assert any(
            s.name == "live_data" and s.value == "lead_time" for s in lead.signals
        )  # seen, not acted on
        many = await Chat(strict).say("We need 8 of the CN-M12-5P-000 connectors, datasheet please")
        assert many.outcome is Outcome.NEXT_STEP  # connectors keep their own 1000 pcs threshold
        valves = await Chat(strict).say("We need 8 of the SV-G14-001 valves, datasheet please")
        assert valves.outcome is Outcome.NEXT_STEP  # valves too (200)
    finally:
        await db.dispose()


async def test_without_a_catalog_nothing_is_made_up() -> None:
    decision = await Chat(EscalationEngine()).say("What's the rated torque of the GX-220?")
    assert decision.outcome is Outcome.CLARIFY
    assert "220" not in decision.reply
