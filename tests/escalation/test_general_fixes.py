"""The engine on the demo catalog after the general fixes: negation, quantities, follow-ups,
indirect person requests, pump head and bearing sizes, complete answers, fit-ordered
shortlists and certification claims. Conversations are our own, not the held-out set's."""

from __future__ import annotations

import pytest

from warmline.catalog.service import CatalogService, make_engine
from warmline.domain.packet import AccountFacts, ReasonCategory
from warmline.escalation.engine import EscalationEngine
from warmline.escalation.models import Outcome
from warmline.escalation.policy import Policy

from .conftest import Chat

STANDARD = AccountFacts(company="Fjord Packaging AS", tier="standard")


def _first_skus(reply: str, n: int = 3) -> list[str]:
    """The SKUs a shortlist reply lists, in order."""
    body = reply.split(": ", 1)[1]
    return [item.strip().split(" ", 1)[0] for item in body.split("; ") if "-" in item.split(" ", 1)[0]][:n]


# --- negation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Not asking about stock or lead time. What is the max pressure of SV-G14-005?",
        "We don't want a quotation yet, only the coil voltage of SV-G38-006.",
        "No need for a sales rep - what IP rating does the HG-0300-016 have?",
    ],
)
async def test_negated_triggers_leave_a_plain_lookup_with_the_ai(engine: EscalationEngine, text: str) -> None:
    decision = await Chat(engine, STANDARD).say(text)
    assert decision.outcome is Outcome.ANSWER, (decision.reason, decision.sub_reason, decision.reply)


async def test_negated_atex_still_gets_a_shortlist_but_atex_itself_hands_off(
    engine: EscalationEngine,
) -> None:
    calm = await Chat(engine, STANDARD).say(
        "This is not for an explosive atmosphere, it's a packaging hall. 6 mm push-in fitting, G1/8 thread?"
    )
    assert calm.outcome is Outcome.NEXT_STEP, calm.reply
    assert _first_skus(calm.reply)[0].startswith("PF-ST-06G18")  # standard 6 mm G1/8 parts lead
    hazardous = await Chat(engine, STANDARD).say("6 mm push-in fitting, G1/8 thread, for ATEX zone 2")
    assert hazardous.reason is ReasonCategory.POLICY_RULE and hazardous.sub_reason == "atex"


# --- quantities -----------------------------------------------------------------------------


async def test_the_order_quantity_is_the_count_not_the_part_number(engine: EscalationEngine) -> None:
    decision = await Chat(engine, STANDARD).say("We'll order 30 HG-0400-109 gearboxes next month")
    assert decision.reason is ReasonCategory.POLICY_RULE and decision.sub_reason == "quantity_threshold"
    assert decision.packet is not None
    assert [(q.amount, q.unit) for q in decision.packet.quantities] == [(30, "gearboxes")]
    assert "30 gearboxes" in decision.packet.summary and "400" not in decision.packet.summary
    small = await Chat(engine, STANDARD).say("We need 3 HG-0400-109 this month, what's the ratio?")
    assert small.outcome is Outcome.ANSWER  # 3 is under the gearbox threshold; 109 is not a count


# --- follow-ups and plural part numbers -----------------------------------------------------


async def test_follow_ups_keep_the_product_under_discussion(engine: EscalationEngine) -> None:
    chat = Chat(engine, STANDARD)
    first = await chat.say("What's the ratio of HG-0300-016?")
    assert first.outcome is Outcome.ANSWER and "ratio: 20" in first.reply
    second = await chat.say("what's its IP rating?")
    assert (
        second.outcome is Outcome.ANSWER and second.reply.startswith("HG-0300-016") and "IP66" in second.reply
    )
    third = await chat.say("and is it foot mounted?")
    assert third.outcome is Outcome.ANSWER and "mounting: B5 flange" in third.reply
    fourth = await chat.say("and the housing, is it stainless?")
    # still about HG-0300-016, whose catalog data has no material: a person confirms it
    assert fourth.reason is ReasonCategory.LOW_CONFIDENCE and fourth.sub_reason == "missing_attribute"
    assert fourth.packet is not None and "material of HG-0300-016" in fourth.packet.summary


async def test_a_successor_follow_up_is_about_the_named_product(engine: EscalationEngine) -> None:
    chat = Chat(engine, STANDARD)
    first = await chat.say("What torque does the GX-180 give?")
    assert first.outcome is Outcome.ANSWER and "successor is GX-200" in first.reply
    second = await chat.say("and the successor?")
    # a replacement question about a superseded part: the documented policy hands it to a person,
    # and the packet is about GX-180 and its successor, not a catalog-wide search
    assert second.reason is ReasonCategory.POLICY_RULE and second.sub_reason == "discontinued_replacement"
    assert second.packet is not None
    assert {p.sku for p in second.packet.products} >= {"GX-180"}
    assert "GX-180 is superseded" in second.packet.summary


async def test_replacement_questions_get_one_policy_whatever_the_wording(engine: EscalationEngine) -> None:
    for text in (
        "what replaced the CP-010-03?",
        "Is there a successor for CP-010-03?",
        "CP-010-03 replacement?",
    ):
        decision = await Chat(engine, STANDARD).say(text)
        assert decision.sub_reason == "discontinued_replacement", (text, decision.reply)


async def test_plural_part_numbers_resolve_to_the_product(engine: EscalationEngine) -> None:
    stock = await Chat(engine, STANDARD).say("Are there HG-0400-109s in your warehouse?")
    assert stock.reason is ReasonCategory.LIVE_DATA and stock.sub_reason == "stock"
    assert stock.packet is not None and [p.sku for p in stock.packet.products][:1] == ["HG-0400-109"]
    spec = await Chat(engine, STANDARD).say("Do the CN-M12-4P-005s have IP68?")
    assert spec.outcome is Outcome.ANSWER and spec.reply.startswith("CN-M12-4P-005")


# --- indirect requests for a person ------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "can someone call me back about it?",
        "Would one of your engineers be able to phone us this week?",
        "I'd like to speak with somebody about this pump",
    ],
)
async def test_indirect_person_requests_hand_off(engine: EscalationEngine, text: str) -> None:
    chat = Chat(engine, STANDARD)
    await chat.say("What's the flow of CF-020-030?")
    decision = await chat.say(text)
    assert decision.reason is ReasonCategory.EXPLICIT_REQUEST
    assert decision.packet is not None and "CF-020-030" in {p.sku for p in decision.packet.products}


# --- head, bearing sizes, complete answers -----------------------------------------------------


async def test_pump_head_answers_the_pressure_question(engine: EscalationEngine) -> None:
    chat = Chat(engine, STANDARD)
    first = await chat.say("I need a pump for water")
    assert first.outcome is Outcome.CLARIFY and "pressure" in first.reply
    second = await chat.say("25 l/min, 50 °C max, 20 m head")
    assert second.outcome is Outcome.NEXT_STEP, second.reply
    assert "head 20 m" in second.reply


async def test_bearing_designation_by_dimensions_gives_a_shortlist(engine: EscalationEngine) -> None:
    decision = await Chat(engine, STANDARD).say("looking for a bearing 25x47x12, shielded")
    assert decision.outcome is Outcome.NEXT_STEP, decision.reply
    skus = _first_skus(decision.reply)
    assert skus and all(s.startswith("WB-254712") for s in skus)
    assert "2Z" in skus[0]  # the shielded variant fits best


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("What are the rated voltage and number of contacts of CN-M12-4P-005?", ["voltage: ", "poles: 4"]),
        ("HG-0300-016: weight and output speed?", ["mass: ", "speed: "]),
        ("Outer diameter and seal type of WB-254712-005?", ["outer diameter: 47 mm", "seal: "]),
    ],
)
async def test_every_asked_attribute_is_answered(
    engine: EscalationEngine, text: str, parts: list[str]
) -> None:
    decision = await Chat(engine, STANDARD).say(text)
    assert decision.outcome is Outcome.ANSWER, decision.reply
    for part in parts:
        assert part in decision.reply, (part, decision.reply)


# --- shortlist order ---------------------------------------------------------------------------


async def test_shortlist_leads_with_the_closest_torque(engine: EscalationEngine) -> None:
    chat = Chat(engine, STANDARD)
    await chat.say("I need a gearbox for a palletiser")
    decision = await chat.say("about 300 Nm output, 400 V")
    assert decision.outcome is Outcome.NEXT_STEP
    assert all("300 N·m" in item for item in decision.reply.split(": ", 1)[1].split("; torque")[:1])
    assert _first_skus(decision.reply)[0].startswith("HG-0300")


async def test_shortlist_leads_with_the_stated_tube_and_thread(engine: EscalationEngine) -> None:
    chat = Chat(engine, STANDARD)
    await chat.say("need push-in fittings")
    decision = await chat.say("6 mm tube, G1/8, shop air 6 bar")
    skus = _first_skus(decision.reply)
    assert skus and all(s.startswith("PF-ST-06G18") for s in skus), decision.reply


# --- certification claims ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "cert"),
    [
        ("Is the CP-060-14 CE marked? We need the declaration for our technical file.", "CE"),
        ("Our customer in Canada asks: is HG-0300-016 cULus listed?", "UL"),
        ("Can you confirm SV-G38-006 is RoHS compliant?", "RoHS"),
    ],
)
async def test_a_certification_not_on_file_is_not_answered_with_a_datasheet(
    engine: EscalationEngine, text: str, cert: str
) -> None:
    decision = await Chat(engine, STANDARD).say(text)
    assert (
        decision.reason is ReasonCategory.LOW_CONFIDENCE
        and decision.sub_reason == "unsupported_certification"
    )
    assert decision.packet is not None
    assert f"no {cert} certificate on file" in decision.packet.summary
    assert any("no certificate on file" in u.text for u in decision.packet.unresolved)


async def test_a_certificate_on_file_is_the_answer(demo_sqlite_url: str, tmp_path) -> None:
    override = tmp_path / "policy.toml"
    override.write_text("[escalate]\npolicy_rule = false\n", encoding="utf-8")  # keep ATEX with the AI here
    db = make_engine(demo_sqlite_url)
    try:
        engine = EscalationEngine(policy=Policy.load(override), catalog=CatalogService(db))
        decision = await Chat(engine, STANDARD).say("Is PF-EX-08G14-002 ATEX certified?")
        assert decision.outcome is Outcome.NEXT_STEP, decision.reply
        assert "EU-type examination certificate for PF-EX-08G14-002" in decision.reply
        assert any(s.kind == "certificate" for s in decision.sources)
    finally:
        await db.dispose()


# --- the same on both databases ------------------------------------------------------------------


async def test_general_fixes_hold_on_every_database(engine_on_db: EscalationEngine) -> None:
    chat = Chat(engine_on_db, STANDARD)
    assert (
        await chat.say("I'm not asking about price: what's the ratio of HG-0300-016?")
    ).outcome is Outcome.ANSWER
    follow = await chat.say("and what does it weigh?")
    assert follow.outcome is Outcome.ANSWER and follow.reply.startswith("HG-0300-016")
    order = await Chat(engine_on_db, STANDARD).say("Please price 750 HG-0400-109 gearboxes")
    assert order.packet is not None and [q.amount for q in order.packet.quantities] == [750]
    ring = await Chat(engine_on_db, STANDARD).say("Could a colleague of yours ring me about gearboxes?")
    assert ring.reason is ReasonCategory.EXPLICIT_REQUEST
    cert = await Chat(engine_on_db, STANDARD).say("Is the CP-060-14 UL listed?")
    assert cert.sub_reason == "unsupported_certification"
