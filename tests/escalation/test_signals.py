"""Each escalation signal over plain inputs: it fires when it should and stays quiet otherwise."""

from __future__ import annotations

import pytest

from warmline.domain.models import AuthorKind
from warmline.escalation import signals as sig
from warmline.escalation.policy import Policy
from warmline.escalation.signals import DocumentRef, ProductEvidence, RetrievalHit, TurnText, ValueConflict
from warmline.escalation.text import PhraseSet

B, A = AuthorKind.BUYER, AuthorKind.AI


def transcript(*pairs: tuple[AuthorKind, str]) -> list[TurnText]:
    return [TurnText(i + 1, kind, body) for i, (kind, body) in enumerate(pairs)]


# --- retrieval quality --------------------------------------------------------------


def test_weak_retrieval_fires_below_threshold_only() -> None:
    hits = [RetrievalHit("GX-240", score=0.31), RetrievalHit("GX-220", score=0.2)]
    fired = sig.weak_retrieval(hits, 0.35, turn=3)
    assert [(s.name, s.value, s.turn) for s in fired] == [("weak_retrieval", 0.31, 3)]
    assert sig.weak_retrieval([RetrievalHit("GX-240", score=0.35)], 0.35) == []
    assert sig.weak_retrieval([], 0.35)[0].detail == "no catalog match"


def test_source_disagreement_only_on_key_attributes() -> None:
    product = ProductEvidence(
        "GX-240",
        conflicts=(
            ValueConflict(
                "torque", (("GX-240 datasheet", "datasheet", "240 N·m"), ("Brochure", "marketing", "260 N·m"))
            ),
            ValueConflict("colour", (("A", "datasheet", "blue"), ("B", "marketing", "grey"))),
        ),
    )
    fired = sig.source_disagreement([product], ["torque", "voltage"], turn=5)
    assert [s.value for s in fired] == ["GX-240.torque"]
    assert "240 N·m" in fired[0].detail and "260 N·m" in fired[0].detail
    assert sig.source_disagreement([product], ["voltage"]) == []


def test_missing_attributes_names_what_the_catalog_lacks() -> None:
    product = ProductEvidence("GX-240", attributes={"torque": "240 N·m", "voltage": "400 V"})
    assert sig.missing_attributes(product, ["torque"]) == []
    fired = sig.missing_attributes(product, ["torque", "mounting"], turn=2)
    assert fired[0].value == "mounting" and fired[0].turn == 2


@pytest.mark.parametrize(
    ("kinds", "expected"),
    [
        (["datasheet", "marketing"], []),
        (["table"], []),
        (["marketing"], ["marketing_only"]),
        (["marketing", "marketing"], ["marketing_only"]),
        (["other"], ["no_authoritative_document"]),
        ([], ["no_authoritative_document"]),
    ],
)
def test_document_evidence(kinds: list[str], expected: list[str]) -> None:
    policy = Policy.defaults()
    product = ProductEvidence(
        "PX-1", documents=tuple(DocumentRef(f"doc {i}", k) for i, k in enumerate(kinds))
    )
    fired = sig.document_evidence(
        product, policy.retrieval.authoritative_kinds, policy.retrieval.marketing_kinds
    )
    assert [s.name for s in fired] == expected


# --- conversation -------------------------------------------------------------------


def test_clarification_streak_counts_trailing_ai_questions() -> None:
    turns = transcript(
        (B, "I need a pump"),
        (A, "What flow rate and temperature?"),
        (B, "not sure"),
        (A, "Roughly how many litres per minute?"),
        (B, "hmm"),
    )
    assert sig.clarification_streak(turns) == 2
    assert sig.clarification_loop(turns, 2)[0].value == 2
    assert sig.clarification_loop(turns, 3) == []
    answered = transcript((B, "x"), (A, "What flow?"), (B, "20 l/min"), (A, "These match: P-1."), (B, "and?"))
    assert sig.clarification_streak(answered) == 0


def test_rephrasing_needs_the_same_question_three_times() -> None:
    twice = transcript(
        (B, "Does the GX-240 fit the mounting pattern of our old gearbox?"),
        (A, "GX-240 has a B14 flange."),
        (B, "Will GX-240 fit our old gearbox's mounting pattern?"),
    )
    assert sig.rephrasing(twice, 0.6, 3) == []
    thrice = [
        *twice,
        TurnText(4, A, "It is rated 240 N·m."),
        TurnText(5, B, "so does GX-240 fit the old gearbox mounting or not"),
    ]
    fired = sig.rephrasing(thrice, 0.6, 3)
    assert fired and fired[0].value == 3 and fired[0].turn == 5
    different = [*twice, TurnText(4, A, "ok."), TurnText(5, B, "What is the lead time to Norway for pumps?")]
    assert sig.rephrasing(different, 0.6, 3) == []


@pytest.mark.parametrize(
    "text",
    [
        "This is not what I asked",
        "I already told you the flow rate",
        "you're not listening!!",
        "this is uselss",
    ],
)
def test_frustration_fires(text: str) -> None:
    assert sig.frustration(text, 7)[0].turn == 7


@pytest.mark.parametrize(
    "text", ["Thanks, that helps", "What is the torque?", "I asked our engineer, he agrees"]
)
def test_frustration_stays_quiet(text: str) -> None:
    assert sig.frustration(text) == []


def test_too_many_products() -> None:
    assert sig.too_many_products(["A-1", "A-2", "A-3", "A-4"], [], 4, 2) == []
    assert sig.too_many_products(["A-1", "A-2", "A-3", "A-4", "A-5"], [], 4, 2)[0].value == 5
    assert sig.too_many_products(["A-1", "B-1"], ["pump", "valve", "sensor"], 4, 2)[0].value == 3


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Can I talk to a person?", "talk to"),
        ("can i tlak to a humna", "talk to"),
        ("I'd like to speak with a sales rep", "speak with"),
        ("please get me an engnieer", "get me"),
        ("Could someone from support call me back", "call me back"),
        ("human please", "human please"),
        ("Is there a real person I can talk to?", "real person"),
        ("put me through to your account manager", "put me through"),
    ],
)
def test_explicit_request_in_varied_wording(text: str, kind: str) -> None:
    fired = sig.explicit_request(text, 4)
    assert fired and str(fired[0].value).startswith(kind)


@pytest.mark.parametrize(
    "text",
    [
        "No need to talk to sales, just tell me the torque",
        "Our engineer says the GX-240 fits",
        "I don't want to speak to a person, I want the datasheet",
        "What is the support bearing's bore?",
        "Which sensor is the most reliable?",
    ],
)
def test_explicit_request_not_fired(text: str) -> None:
    assert sig.explicit_request(text) == []


# --- business rules -----------------------------------------------------------------


def test_quantity_threshold_per_family() -> None:
    policy = Policy.defaults()
    assert sig.quantity_over_threshold(500, "gearbox", policy.business.threshold_for("gearbox"))
    assert sig.quantity_over_threshold(500, "bearing", policy.business.threshold_for("bearing")) == []
    assert sig.quantity_over_threshold(20, None, policy.business.threshold_for(None)) == []


def test_account_tiers() -> None:
    policy = Policy.defaults()
    names = lambda tier, ent=False: [  # noqa: E731
        s.name
        for s in sig.account_tier(tier, ent, policy.accounts.enterprise_tiers, policy.accounts.assisted_tiers)
    ]
    assert names("enterprise") == ["enterprise_account"]
    assert names("standard", True) == ["enterprise_account"]
    assert names("assisted") == ["assisted_tier"]
    assert names("standard") == []


def test_regulated_categories_from_policy_terms() -> None:
    policy = Policy.defaults()
    sets = {k: PhraseSet(v) for k, v in policy.regulated_terms.items()}
    assert [s.value for s in sig.category_terms("fittings for an ATEX zone 1 area", sets)] == ["atex"]
    assert [s.value for s in sig.category_terms("it feeds an emergency stop circuit", sets)] == [
        "safety_critical"
    ]
    assert sig.category_terms("fittings for compressed air, 8 mm tube", sets) == []


def test_lifecycle_replacement() -> None:
    old = ProductEvidence("PV-100", family="valve", status="superseded", superseded_by="PV-110")
    fired = sig.lifecycle_replacement(old, [])
    assert fired[0].name == "discontinued_replacement" and "PV-110" in fired[0].detail
    assert sig.lifecycle_replacement(ProductEvidence("PV-110", family="valve"), []) == []
    assert sig.lifecycle_replacement(ProductEvidence("LC-1", family="light_curtain"), ["light_curtain"])[
        0
    ].name == ("safety_critical_replacement")


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("What's the lead time for GX-240 to Norway?", ["lead_time"]),
        ("Do you have 40 in stock in the Rotterdam warehouse?", ["stock"]),
        ("What price do we get under our framework agreement?", ["pricing", "entitlements"]),
        ("Any news on the status of our quote?", ["quote_status"]),
        ("What is the rated torque of GX-240?", []),
    ],
)
def test_live_data_needs(text: str, kinds: list[str]) -> None:
    policy = Policy.defaults()
    sets = {k: PhraseSet(v) for k, v in policy.live_data.items()}
    assert sorted(str(s.value) for s in sig.live_data_needs(text, sets)) == sorted(kinds)
