"""Typo-tolerant matching and the intent classifier."""

from __future__ import annotations

import pytest

from warmline.escalation.intents import Intent, classify
from warmline.escalation.text import PhraseSet, edit_distance, similarity, token_matches, tokens


def test_edit_distance_counts_transpositions_as_one() -> None:
    assert edit_distance("talk", "tlak") == 1
    assert edit_distance("human", "humna") == 1
    assert edit_distance("engineer", "engnieer") == 1
    assert edit_distance("gearbox", "pump", limit=3) == 4  # capped at limit + 1


def test_real_words_are_not_typos_of_cue_words() -> None:
    assert token_matches("quote", "qoute")
    assert not token_matches("quote", "quite")
    assert not token_matches("order", "older")
    assert not token_matches("rep", "red")  # short cues need exact words


def test_tokens_keep_skus_and_decimals_whole() -> None:
    assert tokens("Will the GX-240 take 1.5 kW?") == ["will", "the", "gx-240", "take", "1.5", "kw"]


def test_phrase_allows_a_small_gap() -> None:
    phrases = PhraseSet(["talk to person"], max_gap=1)
    assert phrases.matches("I want to talk to a person")
    assert not phrases.matches("talk about the torque to the person")


def test_similarity_sees_a_rephrased_question() -> None:
    a = "Does the GX-240 fit the mounting pattern of our old gearbox?"
    b = "Will GX-240 fit our old gearbox's mounting pattern?"
    assert similarity(a, b) >= 0.6
    assert similarity(a, "What is the lead time to Norway for pumps?") < 0.4


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("What's the rated torque of the GX-240?", Intent.LOOKUP),
        ("Will the GX-240 fit the mounting pattern of our current unit?", Intent.COMPATIBILITY),
        ("Our pump keeps overheating after an hour", Intent.TROUBLESHOOTING),
        ("We need a replacement for the discontinued PV-100", Intent.SUBSTITUTION),
        ("Which pump should I use for this coolant loop?", Intent.RECOMMENDATION),
        ("Compare GX-220 and GX-240", Intent.COMPARISON),
        ("Can you send me the datasheet for GX-220?", Intent.DOCUMENT_REQUEST),
        ("Can you quote the full assembly?", Intent.QUOTE_REQUEST),
        ("Our line is down, we need a pump right now", Intent.URGENT_SUPPORT),
        ("We want a complete system for the new dosing skid", Intent.COMPLEX_SPECIFICATION),
        ("The wrong part arrived, we need an RMA", Intent.EXCEPTION_HANDLING),
        ("Can we change our order to the stainless version?", Intent.ORDER_STATUS_CHANGE),
        ("hello", Intent.OTHER),
    ],
)
def test_intents(text: str, intent: Intent) -> None:
    assert classify(text).intent is intent


def test_intent_survives_typos() -> None:
    assert classify("can you send a qoute for 20 pcs").intent is Intent.QUOTE_REQUEST
    assert classify("is it compatable with our flange").intent is Intent.COMPATIBILITY


def test_secondary_intents_are_kept() -> None:
    result = classify("Our line is down and the pump is leaking")
    assert result.intent is Intent.URGENT_SUPPORT
    assert result.has(Intent.TROUBLESHOOTING)
    assert not result.has(Intent.QUOTE_REQUEST)
