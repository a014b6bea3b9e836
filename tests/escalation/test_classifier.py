"""The learned intent layer: loads from resources/ without network, deterministic, reproducible."""

from __future__ import annotations

import json
import socket

import numpy as np
import pytest

from warmline.escalation.classifier import IntentModel, char_wb_ngrams, normalize, word_ngrams
from warmline.escalation.training import load_turns, train
from warmline.resources import resource_path

MODEL = resource_path("escalation", "intent-model.json")
DATA = resource_path("escalation", "training.jsonl")


def _probe_texts() -> list[str]:
    texts, _ = load_turns(DATA)
    extra = [
        "trying to reach a real persn",
        "no need for a person, just the bore of 6205-2RS",
        "hw soon cud u get 3 to Lyon",
        "digits " + "7" * 7000,
    ]
    return texts[::7] + extra


def test_model_loads_from_resources_without_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*_a, **_k):
        raise AssertionError("the intent model must not touch the network")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    model = IntentModel.load()
    scores = model.predict("could one of your engineers ring me back?")
    assert scores.top[0] == "person_request"
    assert model.version.startswith(f"{model.spec_meta['trained_on']['turns']}t-")
    assert MODEL.stat().st_size < 1_000_000, "the shipped model stays small"


def test_predictions_are_deterministic_and_calibrated_per_intent() -> None:
    a, b = IntentModel.load(), IntentModel.load()
    for text in _probe_texts()[:200]:
        pa, pb = a._predict(text), b._predict(text)
        assert pa == pb
        assert all(0.0 <= p <= 1.0 for p in pa.probabilities.values())
        assert list(pa.probabilities) == sorted(pa.probabilities, key=lambda k: -pa.probabilities[k])


def test_analyzers_match_scikit_learn() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    word = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), lowercase=False).build_analyzer()
    char = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), lowercase=False).build_analyzer()
    for text in _probe_texts():
        doc = normalize(text)
        assert sorted(word(doc)) == sorted(word_ngrams(doc, 1, 2)), doc
        assert sorted(char(doc)) == sorted(char_wb_ngrams(doc, 2, 4)), doc


def test_normalize_hides_part_numbers_and_bounds_length() -> None:
    assert normalize("Is the HG-0220-041 in stock? 12 pcs") == "is the xsku in stock? 0 pcs"
    assert normalize("6204-2RS and GX-220s") == "xsku and xsku"
    assert len(normalize("x" * 8000)) <= 801


@pytest.mark.timeout(600)
def test_retraining_from_the_committed_data_reproduces_the_committed_model() -> None:
    committed = json.loads(MODEL.read_text(encoding="utf-8"))
    result = train(DATA)
    assert result.model["version"] == committed["version"]
    assert result.model == committed, "same data, seeds and library versions must give the same file"
    fresh, shipped = IntentModel(result.model), IntentModel(committed)
    texts = _probe_texts()
    got = np.vstack([fresh.decision(t) for t in texts])
    want = np.vstack([shipped.decision(t) for t in texts])
    assert np.array_equal(got, want)
    # the cross-validated figures reported by `warmline escalation train`
    assert result.cv["accuracy"] >= 0.95
    assert result.cv["per_intent"]["person_request"]["recall"] >= 0.97
