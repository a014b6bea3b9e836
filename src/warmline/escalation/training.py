"""`warmline escalation train`: fit the intent classifier on the committed training data.

Deterministic: the turns are read in sorted order (by conversation id and position), every
random choice has a fixed seed, and the weights are stored quantised (int8 with a scale per
intent), so retraining from the same data and library versions writes the same file. Steps:

1. word 1-2-gram and char_wb 2-4-gram TF-IDF (sublinear tf) over ``classifier.normalize``d text;
2. one-vs-rest logistic regression per intent (log loss, L2, SGD with a fixed seed);
3. Platt scaling per intent on 5-fold cross-validated decision scores (so the probability of
   an intent is calibrated on turns the fold's model had not seen);
4. checks: the numpy scorer (``classifier.IntentModel``) reproduces scikit-learn's decision
   scores on every training text, and the cross-validated figures are reported.

scikit-learn is imported here only; the engine scores the model with numpy.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from warmline.escalation.classifier import MODEL_FORMAT, IntentModel, char_wb_ngrams, normalize, word_ngrams

SEED = 20261204
WORD = {"analyzer": "word", "ngram_range": (1, 2), "max_features": 6000}
CHAR = {"analyzer": "char_wb", "ngram_range": (2, 4), "max_features": 14000}
ALPHA = 1e-5  # L2 strength
EPOCHS = 50


@dataclass
class TrainResult:
    model: dict[str, Any]
    cv: dict[str, Any]
    n_turns: int


def load_turns(path: Path) -> tuple[list[str], list[str]]:
    """(texts, intents) of every labelled buyer turn, in sorted (id, position) order."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows.sort(key=lambda r: r["id"])
    texts, labels = [], []
    for row in rows:
        for turn in row["turns"]:
            texts.append(turn["text"])
            labels.append(turn["intent"])
    return texts, labels


def _vectorizers():
    from sklearn.feature_extraction.text import TfidfVectorizer

    word = TfidfVectorizer(
        analyzer="word",
        token_pattern=r"(?u)\b\w\w+\b",
        ngram_range=WORD["ngram_range"],
        lowercase=False,
        sublinear_tf=True,
        min_df=2,
        max_features=WORD["max_features"],
        dtype=np.float64,
    )
    char = TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=CHAR["ngram_range"],
        lowercase=False,
        sublinear_tf=True,
        min_df=2,
        max_features=CHAR["max_features"],
        dtype=np.float64,
    )
    return word, char


def _features(docs: list[str], fit: bool, vecs: tuple[Any, Any]):
    from scipy.sparse import hstack

    word, char = vecs
    if fit:
        return hstack([word.fit_transform(docs), char.fit_transform(docs)]).tocsr()
    return hstack([word.transform(docs), char.transform(docs)]).tocsr()


def _linear(X, y: np.ndarray, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """One-vs-rest logistic regression (log loss, L2, SGD with a fixed seed): coef features x classes."""
    from sklearn.linear_model import SGDClassifier

    coef = np.zeros((X.shape[1], n_classes))
    intercept = np.zeros(n_classes)
    for k in range(n_classes):
        clf = SGDClassifier(loss="log_loss", alpha=ALPHA, max_iter=EPOCHS, tol=None, random_state=SEED)
        clf.fit(X, (y == k).astype(int))
        coef[:, k] = clf.coef_[0]
        intercept[k] = clf.intercept_[0]
    return coef, intercept


def _platt(scores: np.ndarray, target: np.ndarray) -> tuple[float, float]:
    """Sigmoid p = 1 / (1 + exp(a*s + b)) fitted on held-out scores (Platt scaling)."""
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=1e4, solver="lbfgs", max_iter=1000)
    clf.fit(scores.reshape(-1, 1), target)
    return -float(clf.coef_[0][0]), -float(clf.intercept_[0])


def _quantise(coef: np.ndarray) -> tuple[str, list[float]]:
    scale = np.abs(coef).max(axis=0) / 127.0
    scale[scale == 0] = 1.0
    q = np.clip(np.rint(coef / scale), -127, 127).astype(np.int8)
    return base64.b64encode(q.tobytes()).decode("ascii"), [float(f"{s:.9g}") for s in scale]


def train(data: Path, folds: int = 5) -> TrainResult:
    """Fit on every turn of ``data``; cross-validated figures on the same data, by fold."""
    import sklearn
    from sklearn.model_selection import StratifiedKFold

    texts, labels = load_turns(data)
    docs = [normalize(t) for t in texts]
    classes = sorted(set(labels))
    y = np.array([classes.index(label) for label in labels])
    n = len(classes)

    # cross-validated decision scores: for calibration and for the reported figures
    held_out = np.zeros((len(docs), n))
    for train_idx, test_idx in StratifiedKFold(folds, shuffle=True, random_state=SEED).split(docs, y):
        vecs = _vectorizers()
        X_train = _features([docs[i] for i in train_idx], True, vecs)
        coef, intercept = _linear(X_train, y[train_idx], n)
        X_test = _features([docs[i] for i in test_idx], False, vecs)
        held_out[test_idx] = X_test @ coef + intercept
    cal = [_platt(held_out[:, k], (y == k).astype(int)) for k in range(n)]

    vecs = _vectorizers()
    X = _features(docs, True, vecs)
    coef, intercept = _linear(X, y, n)
    weights, scale = _quantise(coef)
    blocks = []
    for vec, spec in zip(vecs, (WORD, CHAR), strict=True):
        vocab = sorted(vec.vocabulary_, key=vec.vocabulary_.get)
        blocks.append(
            {
                "analyzer": spec["analyzer"],
                "ngram_range": list(spec["ngram_range"]),
                "vocabulary": vocab,
                "idf": [float(f"{v:.9g}") for v in vec.idf_],
            }
        )
    model = {
        "format": MODEL_FORMAT,
        "version": "",
        "trained_on": {
            "turns": len(docs),
            "classes": {c: int((y == i).sum()) for i, c in enumerate(classes)},
        },
        "sklearn": sklearn.__version__,
        "settings": {"alpha": ALPHA, "epochs": EPOCHS, "folds": folds, "seed": SEED, "min_df": 2},
        "classes": classes,
        "blocks": blocks,
        "weights": {"int8": weights, "scale": scale},
        "intercept": [float(f"{v:.9g}") for v in intercept],
        "calibration": {"a": [float(f"{a:.9g}") for a, _ in cal], "b": [float(f"{b:.9g}") for _, b in cal]},
    }
    digest = hashlib.sha256(json.dumps(model, sort_keys=True).encode()).hexdigest()[:12]
    model["version"] = f"{len(docs)}t-{digest}"
    _check_analyzers(vecs, docs)
    return TrainResult(model=model, cv=_cv_report(held_out, y, classes, cal), n_turns=len(docs))


def _check_analyzers(vecs: tuple[Any, Any], docs: list[str]) -> None:
    """The numpy scorer's analyzers must produce scikit-learn's n-grams exactly."""
    word, char = vecs
    wa, ca = word.build_analyzer(), char.build_analyzer()
    for doc in docs:
        if sorted(wa(doc)) != sorted(word_ngrams(doc, *WORD["ngram_range"])) or sorted(ca(doc)) != sorted(
            char_wb_ngrams(doc, *CHAR["ngram_range"])
        ):
            raise AssertionError(f"analyzer mismatch on {doc!r}")


def _cv_report(held_out: np.ndarray, y: np.ndarray, classes: list[str], cal) -> dict[str, Any]:
    a = np.array([c[0] for c in cal])
    b = np.array([c[1] for c in cal])
    probs = 1.0 / (1.0 + np.exp(a * held_out + b))
    pred = probs.argmax(axis=1)
    per: dict[str, dict[str, float]] = {}
    for k, name in enumerate(classes):
        tp = int(((pred == k) & (y == k)).sum())
        fp = int(((pred == k) & (y != k)).sum())
        fn = int(((pred != k) & (y == k)).sum())
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        per[name] = {"precision": round(p, 3), "recall": round(r, 3), "support": int((y == k).sum())}
    # calibration: mean predicted probability vs observed frequency, in 5 bins over all (turn, intent)
    flat_p, flat_t = probs.ravel(), np.eye(len(classes))[y].ravel()
    bins = []
    for lo in (0.0, 0.2, 0.4, 0.6, 0.8):
        m = (flat_p >= lo) & (flat_p < lo + 0.2 + (1e-9 if lo == 0.8 else 0))
        if m.any():
            bins.append(
                {
                    "bin": f"{lo:.1f}-{lo + 0.2:.1f}",
                    "n": int(m.sum()),
                    "mean_p": round(float(flat_p[m].mean()), 3),
                    "observed": round(float(flat_t[m].mean()), 3),
                }
            )
    return {"accuracy": round(float((pred == y).mean()), 4), "per_intent": per, "calibration": bins}


def write_model(model: dict[str, Any], out: Path) -> None:
    out.write_text(json.dumps(model, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")


def check_scorer(model: dict[str, Any], texts: list[str]) -> float:
    """Largest difference between the numpy scorer and scikit-learn's features times the same weights."""
    m = IntentModel(model)
    vecs = _vectorizers()
    docs = [normalize(t) for t in texts]
    _features(docs, True, vecs)  # same data, same settings: the same vocabulary as the model
    X = _features(docs, False, vecs)
    expected = X @ m.coef + m.intercept
    got = np.vstack([m.decision(t) for t in texts])
    return float(np.abs(expected - got).max())
