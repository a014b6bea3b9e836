"""Policy loading and overrides, routing, and constraint extraction."""

from __future__ import annotations

import pytest

from warmline.domain.packet import AccountFacts, HandoffPacket, Priority, ProductRef
from warmline.escalation.extract import extract_facts
from warmline.escalation.policy import POLICY_ENV, Policy, PolicyError
from warmline.escalation.routing import route


def test_defaults_are_documented_values() -> None:
    policy = Policy.defaults()
    assert policy.conversation.max_clarifications == 2
    assert policy.business.threshold_for("pump") == 10 and policy.business.threshold_for(None) == 100
    assert policy.clarify["pump"] == ["flow", "temperature", "medium", "pressure"]
    assert policy.escalate.order[0].value == "explicit_request"


def test_override_merges_tables_and_replaces_lists(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "ws.toml"
    path.write_text(
        '[business.family_quantity_thresholds]\npump = 3\n[accounts]\nassisted_tiers = ["gold"]\n'
    )
    policy = Policy.load(path)
    assert policy.business.threshold_for("pump") == 3
    assert policy.business.threshold_for("bearing") == 1000  # untouched keys keep their default
    assert policy.accounts.assisted_tiers == ["gold"]
    monkeypatch.setenv(POLICY_ENV, str(path))
    assert Policy.load().accounts.assisted_tiers == ["gold"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[conversation]\nmax_clarifications = -1\n", "conversation.max_clarifications"),
        ("[escalate]\norder = ['live_data']\n", "escalate.order"),
        ("[nonsense]\nx = 1\n", "nonsense"),
        ("[conversation\n", "not valid TOML"),
    ],
)
def test_bad_override_names_the_key(tmp_path, text: str, message: str) -> None:
    path = tmp_path / "ws.toml"
    path.write_text(text)
    with pytest.raises(PolicyError, match=r"ws\.toml") as err:
        Policy.load(path)
    assert message in str(err.value)


def test_missing_override_file_is_an_error(tmp_path) -> None:
    with pytest.raises(PolicyError, match="not found"):
        Policy.load(tmp_path / "nope.toml")


def _packet(**kw) -> HandoffPacket:
    return HandoffPacket(reason=kw.pop("reason", "low_confidence"), summary="s", **kw)


def test_route_uses_families_reason_and_certification() -> None:
    packet = _packet(
        reason="policy_rule",
        sub_reason="atex",
        products=[ProductRef(sku="PF-1", family="pneumatic_fitting")],
    )
    skills, priority = route(packet, "lookup")
    assert skills == ["pneumatics", "atex"] and priority is Priority.NORMAL
    quote, prio = route(_packet(reason="purchase_intent", sub_reason="quote_request", product_family="pump"))
    assert quote == ["pumps", "quotes"] and prio is Priority.HIGH
    _, outage = route(_packet(urgency="line is down", urgency_turn=1), "troubleshooting")
    assert outage is Priority.URGENT
    _, key = route(_packet(account=AccountFacts(tier="key")))
    assert key is Priority.HIGH


def test_extracts_values_units_quantities_urgency_region() -> None:
    facts = extract_facts("400 V, IP65, washdown, at least 180 Nm; 500 units to Norway this month", 3)
    got = {(c.name, c.value, c.unit) for c in facts.constraints}
    assert {
        ("voltage", "400", "V"),
        ("ip", "IP65", ""),
        ("torque", "≥ 180", "N·m"),
        ("washdown", "yes", ""),
    } <= got
    assert all(c.source_turn == 3 for c in facts.constraints)
    assert [(q.amount, q.unit) for q in facts.quantities] == [(500, "pcs")]
    assert facts.urgency == "this month" and facts.region == "Norway"
    bearing = extract_facts("25 mm bore, 52 mm outer diameter, 10 m cable")
    assert {(c.name, c.value) for c in bearing.constraints} >= {("bore", "25"), ("outer_diameter", "52 mm")}
    assert extract_facts("send it to us asap").region is None
