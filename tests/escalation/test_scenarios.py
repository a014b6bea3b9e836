"""Every demo scenario, replayed through the engine on the demo catalog, hands off sensibly."""

from __future__ import annotations

import pytest

from warmline.domain.models import AuthorKind
from warmline.domain.skills import default_taxonomy
from warmline.escalation.engine import EscalationEngine
from warmline.sim.scenarios import FOLLOW_UPS, SCENARIOS, Scenario, follow_ups_for, play_scenario

REQUIRED_TOPICS = {"gearbox", "pump", "atex", "sensor", "cable", "bearing", "connector"}


def test_the_scenarios_cover_the_brief() -> None:
    assert len(SCENARIOS) >= 24
    assert len({s.id for s in SCENARIOS}) == len(SCENARIOS)
    assert {s.topic for s in SCENARIOS} >= REQUIRED_TOPICS
    assert {s.expect for s in SCENARIOS} == {r for r in type(SCENARIOS[0].expect)}
    assert any(s.buyer.tier == "enterprise" for s in SCENARIOS)
    for topic in REQUIRED_TOPICS - {"atex"} | {"default"}:
        assert FOLLOW_UPS.get(topic), topic


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.id for s in SCENARIOS])
async def test_scenario_escalates_with_its_reason(engine: EscalationEngine, scenario: Scenario) -> None:
    transcript, decision = await play_scenario(engine, scenario)
    assert decision.escalates, [t.body for t in transcript]
    assert decision.reason is scenario.expect, (decision.reason, decision.sub_reason)
    assert decision.sub_reason
    # the transcript alternates buyer and AI turns and ends with the AI telling why a specialist joins
    assert [t.author_kind for t in transcript] == [AuthorKind.BUYER, AuthorKind.AI] * (len(transcript) // 2)
    assert transcript[-1].body == decision.reply and "specialist" in decision.reply
    assert transcript[0].author_name == scenario.buyer.name
    # routing: known skills only, and the family's skill when the family is known
    taxonomy = default_taxonomy()
    assert decision.required_skills and set(decision.required_skills) <= set(taxonomy.labels)
    packet = decision.packet
    assert packet is not None and packet.account.company == scenario.buyer.company
    if packet.product_family in taxonomy.families:
        assert set(taxonomy.families[packet.product_family]) <= set(decision.required_skills)
    # every item points at a real turn of this transcript
    seqs = {t.seq for t in transcript}
    items = [*packet.products, *packet.constraints, *packet.documents, *packet.unresolved, *packet.quantities]
    assert all(i.source_turn in seqs for i in items if i.source_turn is not None)
    assert packet.goal_turn in seqs and transcript[packet.goal_turn - 1].author_kind is AuthorKind.BUYER


def test_follow_ups_fall_back_to_general_replies() -> None:
    atex = next(s for s in SCENARIOS if s.topic == "atex")
    assert follow_ups_for(atex)[: len(FOLLOW_UPS["atex"])] == FOLLOW_UPS["atex"]
    assert follow_ups_for(atex)[-1] == FOLLOW_UPS["default"][-1]
