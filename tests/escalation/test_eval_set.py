"""The never-tuned evaluation set of issue 16 (tests/data/escalation-eval.jsonl).

Written by hand (``escalation_eval_build.py``) and committed (2e41722) before any training data
or classifier existed; nothing was fitted or adjusted against it. The first run of the finished
engine is the figure in docs/escalation.md ("Evaluation set"); the floors below sit just under
it so the engine may not slide back. Labels are frozen by a checksum: any change must be
deliberate and listed in the docs, and the figure is then no longer blind for that change.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from pathlib import Path

from warmline.domain.packet import ReasonCategory
from warmline.escalation.engine import EscalationEngine
from warmline.escalation.evaluation import evaluate, load_dataset

EVAL_SET = Path(__file__).resolve().parents[1] / "data" / "escalation-eval.jsonl"
EVAL_SHA256 = "4b6152da8ce7cce3897dfd29e07054b0b6ed15600199ad2c0a8b7e2faec42678"

# Targets of issue 16: F1 >= 0.92, reason accuracy >= 0.88, unnecessary <= 0.05, late <= 0.05,
# explicit-request recall >= 0.98. Measured (first run): F1 0.977, reason accuracy 0.966,
# unnecessary 0.025, late 0.029, explicit-request recall 0.957 (the one target not met).
FLOORS = {"f1": 0.95, "reason_accuracy": 0.93, "precision": 0.95, "recall": 0.94}
CEILINGS = {"unnecessary_rate": 0.05, "late_rate": 0.05}
EXPLICIT_RECALL_FLOOR = 0.95
# The second blind set (person requests in new wordings, messages that only mention people), written
# after the first set's figures and before any change: measured F1 0.991, explicit-request recall
# 0.978 (44/45), no handoff on the 15 messages that only mention people.
EVAL2_SET = EVAL_SET.with_name("escalation-eval-2.jsonl")
EVAL2_SHA256 = "c6b8937de3ac7e4c4c71bc2cd9e074ed8060c600b9b4e4a4f778ea97a82b8cfc"


def _digest() -> str:
    rows = [json.loads(line) for line in EVAL_SET.read_text(encoding="utf-8").splitlines() if line.strip()]
    return hashlib.sha256(json.dumps(rows, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def test_eval_labels_are_frozen() -> None:
    assert _digest() == EVAL_SHA256, "evaluation labels changed: list the change in docs/escalation.md"


def test_eval_set_is_large_and_varied() -> None:
    conversations = load_dataset(EVAL_SET)
    assert len(conversations) >= 300
    reasons = Counter(c.expected.reason for c in conversations if c.expected.reason)
    assert set(reasons) == set(ReasonCategory) and min(reasons.values()) >= 15, reasons
    assert reasons[ReasonCategory.EXPLICIT_REQUEST] >= 60
    assert sum(1 for c in conversations if c.expected.escalate_at is None) >= 75
    assert sum(1 for c in conversations if (c.expected.escalate_at or 0) >= 1) >= 40, "late handoffs"
    assert sum(1 for c in conversations if len(c.buyer_turns) >= 3) >= 5, "clarification loops"
    prefixes = {
        m.group(1) for c in conversations for t in c.buyer_turns for m in re.finditer(r"\b([A-Z]{2})-", t)
    }
    assert len(prefixes) >= 9, f"product families: {sorted(prefixes)}"


async def test_eval_figures_meet_the_targets(engine: EscalationEngine) -> None:
    report = await evaluate(engine, load_dataset(EVAL_SET))
    figures = report.as_dict()
    for name, floor in FLOORS.items():
        assert figures[name] >= floor, (name, figures[name], [f["id"] for f in figures["failures"]])
    for name, ceiling in CEILINGS.items():
        assert figures[name] <= ceiling, (name, figures[name], [f["id"] for f in figures["failures"]])
    explicit = figures["by_reason"]["explicit_request"]
    assert explicit["recall"] >= EXPLICIT_RECALL_FLOOR, explicit


async def test_second_blind_set_person_requests(engine: EscalationEngine) -> None:
    rows = [json.loads(line) for line in EVAL2_SET.read_text(encoding="utf-8").splitlines() if line.strip()]
    digest = hashlib.sha256(json.dumps(rows, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    assert digest == EVAL2_SHA256, "second evaluation set changed: list the change in docs/escalation.md"
    report = await evaluate(engine, load_dataset(EVAL2_SET))
    figures = report.as_dict()
    assert figures["f1"] >= 0.95 and figures["unnecessary_rate"] <= 0.05, figures["failures"]
    assert figures["by_reason"]["explicit_request"]["recall"] >= 0.95, figures["by_reason"]
    assert figures["reason_confusion"]["none"]["explicit_request"] == 0, "mentioning people is no request"
