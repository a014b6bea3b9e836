"""Negation scope for cue phrases, and explicit requests for a person in indirect wording."""

from __future__ import annotations

import pytest

from warmline.escalation import signals as sig
from warmline.escalation.intents import Intent, classify
from warmline.escalation.policy import Policy
from warmline.escalation.text import PhraseSet, is_negated, scope

POLICY = Policy.load()
LIVE = {k: PhraseSet(v) for k, v in POLICY.live_data.items()}
REGULATED = {k: PhraseSet(v) for k, v in POLICY.regulated_terms.items()}


# --- the scope itself -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("We're not interested in the price yet, what's the bore?", "price"),
        ("This does NOT go into an explosive atmosphere.", "explosive atmosphere"),
        ("there is no hazardous area anywhere in that hall", "hazardous area"),
        ("Never mind the lead time; what flange does it have?", "lead time"),
        ("we won't need a quotation for this one", "quotation"),
        ("a spec sheet rather than a quote, please", "quote"),
        ("Price is not important here, the IP rating is", "price"),
        ("delivery time doesn't matter for this project", "delivery time"),
    ],
)
def test_a_negated_cue_does_not_count(text: str, phrase: str) -> None:
    assert is_negated(text, phrase)


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("Not for ATEX, but the second line does run in an explosive atmosphere", "explosive atmosphere"),
        ("No rush. What's the price of 20?", "price"),
        ("I'm not sure what the price is for these", "price"),  # a hedge, not a negation
        ("Not only the price: also the lead time please", "lead time"),
        ("What is the lead time, we can't wait long", "lead time"),  # negation after, unrelated
        ("Our plant cannot afford any downtime", "downtime"),  # what to avoid stays urgent
    ],
)
def test_a_cue_outside_the_scope_still_counts(text: str, phrase: str) -> None:
    assert not is_negated(text, phrase)


def test_scope_keeps_decimals_and_part_numbers_in_their_clause() -> None:
    scoped = scope("Is 2.2 kW enough for the GX-220, or not?")
    assert "2.2" in scoped.words and "gx-220" in scoped.words
    at = scoped.words.index("gx-220")
    assert not scoped.negated(at)
    assert scoped.clauses[scoped.words.index("2.2")] == scoped.clauses[at]


# --- negation in the escalation cues ------------------------------------------------------


def test_live_data_ignores_a_negated_mention() -> None:
    assert sig.live_data_needs("Not asking about pricing, just the thread of SV-G14-005", LIVE) == []
    assert [s.value for s in sig.live_data_needs("Stock is not relevant; is it IP67?", LIVE)] == []
    fired = sig.live_data_needs("No quote needed, but what's the lead time to Oslo?", LIVE)
    assert [s.value for s in fired] == ["lead_time"]


def test_regulated_words_ignore_a_negated_mention() -> None:
    assert sig.category_terms("we don't need ATEX, the cabinet is in a clean office", REGULATED) == []
    assert sig.category_terms("It won't be used in any hazardous area.", REGULATED) == []
    fired = sig.category_terms("It goes into ATEX zone 2 next to the paint booth", REGULATED)
    assert [s.value for s in fired] == ["atex"]


@pytest.mark.parametrize(
    ("text", "absent"),
    [
        ("No need for a formal quotation, I only want the mass of HG-0300-016", Intent.QUOTE_REQUEST),
        ("we don't need a pump, just the manual for CP-060-14", Intent.RECOMMENDATION),
        ("I'm not looking to replace it, what's the ratio of GX-200?", Intent.SUBSTITUTION),
    ],
)
def test_negated_intent_cues_do_not_count(text: str, absent: Intent) -> None:
    assert not classify(text).has(absent)


def test_affirmed_intent_cues_still_count() -> None:
    assert classify("Forget the datasheet, please send a quote for 30 pcs").intent is Intent.QUOTE_REQUEST
    assert classify("The motor doesn't start after the swap").has(Intent.TROUBLESHOOTING)


# --- explicit requests for a person ---------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Would one of your engineers be able to phone me this afternoon?",
        "can someone from sales email us the details?",
        "Is there anybody I could speak with about the retrofit?",
        "Could a colleague of yours give me a ring back?",
        "I'd like to speak with somebody who knows pumps",
        "Please have a specialist call us, the number is on file",
        "Can somebody get back to me tomorrow morning?",
        "can i tlak to a humna",
        "I'd rather talk to a real engineer about this",
    ],
)
def test_indirect_requests_for_a_person_are_explicit(text: str) -> None:
    assert sig.explicit_request(text, turn=4)[0].turn == 4


@pytest.mark.parametrize(
    "text",
    [
        "Our engineer will call you tomorrow with the drawings",
        "Someone from your team called me yesterday about the quote",
        "No need for anyone to ring me, the datasheet is enough",
        "I don't want to speak to sales, just tell me the torque",
        "My colleague asked me to check the IP rating of GX-220",
        "We talked to our account manager last week",
        "Can the GX-220 be mounted by one person?",
    ],
)
def test_statements_and_negations_are_not_requests(text: str) -> None:
    assert sig.explicit_request(text) == []
