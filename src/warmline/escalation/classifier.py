"""The learned intent layer: a small linear text classifier scored with numpy, no network.

The model (``resources/escalation/intent-model.json``, written by ``warmline escalation
train``, see ``training.py``) is word 1-2-gram plus character 2-4-gram (within words)
TF-IDF features, a one-vs-rest logistic regression per intent, and a Platt sigmoid per
intent fitted on cross-validated scores, so each intent gets a calibrated probability of
its own (a turn can carry two intents: "what's the lead time, and can someone call me?").
Character n-grams make it robust to misspellings and missing spaces.

This module re-implements scikit-learn's ``TfidfVectorizer`` analyzers exactly (word
tokens ``\\b\\w\\w+\\b``... see ``word_ngrams`` / ``char_wb_ngrams``), so the runtime needs
numpy only; the trainer checks the two agree on every training text.
"""

from __future__ import annotations

import base64
import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from warmline.resources import resource_path

MODEL_FORMAT = "warmline-intent-model/1"
DEFAULT_MODEL = "escalation/intent-model.json"

# Part numbers and numbers carry no intent; they become placeholders so the model learns
# from words ("GX-220", "HG-0220-041", "6204-2RS" all read "xsku").
_SKU = re.compile(
    r"\b(?=[a-z0-9./-]*\d)(?=[a-z0-9./-]*[a-z])[a-z0-9]+(?:[-/.][a-z0-9]+)+\b|\b[a-z]{1,4}\d{2,}[a-z0-9]*\b"
)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
_SPACE = re.compile(r"\s\s+")
_TOKEN = re.compile(r"(?u)\b\w\w+\b")
# A buyer message is read from its first and last characters only: intent shows early or
# at the end, and this bounds the work on a pasted 8,000-character body.
HEAD, TAIL = 600, 200


def normalize(text: str) -> str:
    """Lower case, part numbers -> 'xsku', numbers -> '0', bounded length."""
    text = text.lower()
    if len(text) > HEAD + TAIL:
        text = text[:HEAD] + " " + text[-TAIL:]
    text = _SKU.sub(" xsku ", text)
    text = _NUMBER.sub("0", text)
    return _SPACE.sub(" ", text).strip()


def word_ngrams(doc: str, lo: int = 1, hi: int = 2) -> list[str]:
    """scikit-learn's word analyzer (token_pattern ``\\b\\w\\w+\\b``, n-grams joined by a space)."""
    tokens = _TOKEN.findall(doc)
    out = list(tokens) if lo == 1 else []
    n_tokens = len(tokens)
    for n in range(max(lo, 2), min(hi, n_tokens) + 1):
        for i in range(n_tokens - n + 1):
            out.append(" ".join(tokens[i : i + n]))
    return out


def char_wb_ngrams(doc: str, lo: int = 2, hi: int = 4) -> list[str]:
    """scikit-learn's ``char_wb`` analyzer: n-grams inside words padded with a space."""
    out: list[str] = []
    for word in doc.split():
        w = f" {word} "
        length = len(w)
        for n in range(lo, hi + 1):
            offset = 0
            out.append(w[offset : offset + n])
            while offset + n < length:
                offset += 1
                out.append(w[offset : offset + n])
            if offset == 0:  # the word is shorter than n: one n-gram
                break
    return out


@dataclass(frozen=True)
class IntentScores:
    """Calibrated probability per intent for one text, best first."""

    probabilities: dict[str, float]

    @property
    def top(self) -> tuple[str, float]:
        return next(iter(self.probabilities.items()))

    def p(self, intent: str) -> float:
        return self.probabilities.get(intent, 0.0)

    def above(self, threshold: float) -> list[str]:
        return [k for k, v in self.probabilities.items() if v >= threshold]


class _Block:
    """One TF-IDF feature block (word or char): vocabulary, idf, n-gram range."""

    def __init__(self, spec: dict) -> None:
        self.kind = spec["analyzer"]
        self.lo, self.hi = spec["ngram_range"]
        self.index = {term: i for i, term in enumerate(spec["vocabulary"])}
        self.idf = np.asarray(spec["idf"], dtype=np.float64)

    def features(self, doc: str) -> tuple[np.ndarray, np.ndarray]:
        grams = (
            word_ngrams(doc, self.lo, self.hi)
            if self.kind == "word"
            else char_wb_ngrams(doc, self.lo, self.hi)
        )
        counts: dict[int, int] = {}
        index = self.index
        for g in grams:
            i = index.get(g)
            if i is not None:
                counts[i] = counts.get(i, 0) + 1
        if not counts:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        cols = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        tf = np.fromiter((1.0 + math.log(c) for c in counts.values()), dtype=np.float64, count=len(counts))
        values = tf * self.idf[cols]
        norm = float(np.sqrt(values @ values))
        return cols, values / norm if norm else values


class IntentModel:
    """The shipped intent classifier; ``predict(text)`` gives calibrated probabilities."""

    def __init__(self, spec: dict) -> None:
        if spec.get("format") != MODEL_FORMAT:
            raise ValueError(f"intent model: unknown format {spec.get('format')!r} (expected {MODEL_FORMAT})")
        self.spec_meta = {k: v for k, v in spec.items() if k not in {"blocks", "weights"}}
        self.classes: list[str] = list(spec["classes"])
        self.version: str = spec["version"]
        self.blocks = [_Block(b) for b in spec["blocks"]]
        w = spec["weights"]
        raw = np.frombuffer(base64.b64decode(w["int8"]), dtype=np.int8).astype(np.float64)
        n_features = sum(len(b.index) for b in self.blocks)
        self.coef = raw.reshape(n_features, len(self.classes)) * np.asarray(w["scale"], dtype=np.float64)
        self.intercept = np.asarray(spec["intercept"], dtype=np.float64)
        self.cal_a = np.asarray(spec["calibration"]["a"], dtype=np.float64)
        self.cal_b = np.asarray(spec["calibration"]["b"], dtype=np.float64)
        self._offsets = np.cumsum([0] + [len(b.index) for b in self.blocks[:-1]])

    @classmethod
    def load(cls, path: Path | str | None = None) -> IntentModel:
        source = Path(path) if path is not None else resource_path(DEFAULT_MODEL)
        return cls(json.loads(Path(source).read_text(encoding="utf-8")))

    def decision(self, text: str) -> np.ndarray:
        """Raw linear scores per class (what the calibration maps to probabilities)."""
        doc = normalize(text)
        scores = self.intercept.copy()
        for block, offset in zip(self.blocks, self._offsets, strict=True):
            cols, values = block.features(doc)
            if len(cols):
                scores += values @ self.coef[cols + offset]
        return scores

    def predict(self, text: str) -> IntentScores:
        return _predict_cached(self, text)

    def _predict(self, text: str) -> IntentScores:
        scores = self.decision(text)
        probs = 1.0 / (1.0 + np.exp(self.cal_a * scores + self.cal_b))
        order = np.argsort(-probs, kind="stable")
        return IntentScores({self.classes[i]: round(float(probs[i]), 4) for i in order})


@lru_cache(maxsize=8192)
def _predict_cached(model: IntentModel, text: str) -> IntentScores:
    return model._predict(text)


_DEFAULT: IntentModel | None = None


def default_model() -> IntentModel:
    """The model shipped in resources/, loaded once per process."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = IntentModel.load()
    return _DEFAULT
