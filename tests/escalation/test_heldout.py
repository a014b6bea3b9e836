"""The held-out escalation set: labelled before anyone looked at the engine, never tuned against.

The figures measured on it are recorded in docs/escalation.md ("Held-out set"). The floors and
caps below sit about 0.05 under (over) what was measured, so the engine may not slide back; when the
engine improves, raise them. The labels are frozen by a checksum: changing a label to match the
engine would hide a regression, so any change must be deliberate and listed in the docs.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path

from warmline.domain.packet import ReasonCategory
from warmline.escalation.engine import EscalationEngine
from warmline.escalation.evaluation import evaluate, load_dataset

HELDOUT_SET = Path(__file__).resolve().parents[1] / "data" / "escalation-heldout.jsonl"

# The commit that first added the labels (25451ae); update only with a listed, justified label fix.
HELDOUT_SHA256 = "347492756624add653ddce264dce53200d08b5465ce4d7cac4365d24dc844212"

# First (blind) measure on the default policy and demo catalog: precision 0.875, recall 0.833,
# F1 0.854, reason accuracy 0.829, unnecessary 0.150, late 0.167, outcome accuracy 0.785.
# After the general engine fixes (this set's failure list was seen while fixing, so it is no
# longer a blind measure): precision 0.925, recall 0.881, F1 0.902, reason accuracy 0.838,
# unnecessary 0.100, late 0.119, outcome accuracy 0.880. With the learned intent layer (issue 16):
# precision 0.932, recall 0.976, F1 0.953, reason accuracy 0.854, unnecessary 0.091, late 0.024,
# outcome accuracy 0.924. Floors sit about 0.05 below (caps about 0.05 above) that.
FLOORS = {
    "precision": 0.88,
    "recall": 0.92,
    "f1": 0.90,
    "reason_accuracy": 0.80,
    "outcome_accuracy": 0.87,
}
CEILINGS = {"unnecessary_rate": 0.14, "late_rate": 0.07}


def _labels_digest() -> str:
    """Checksum of the parsed conversations, so line endings or key order do not matter."""
    rows = [json.loads(line) for line in HELDOUT_SET.read_text(encoding="utf-8").splitlines() if line.strip()]
    return hashlib.sha256(json.dumps(rows, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def test_heldout_labels_are_frozen() -> None:
    digest = _labels_digest()
    assert digest == HELDOUT_SHA256, "held-out labels changed: list the fix in docs/escalation.md"


def test_heldout_set_covers_every_reason_and_the_stay_with_ai_cases() -> None:
    conversations = load_dataset(HELDOUT_SET)
    assert len(conversations) >= 40
    reasons = Counter(c.expected.reason for c in conversations if c.expected.reason)
    assert set(reasons) == set(ReasonCategory)
    assert min(reasons.values()) >= 4, reasons
    staying = [c for c in conversations if c.expected.escalate_at is None]
    assert len(staying) >= 25
    last = Counter(c.expected.outcomes[-1].value for c in staying)
    assert last["answer"] >= 5 and last["next_step"] >= 5 and last["clarify"] >= 2, last
    # Later handoffs test timing, not only the decision: some must come after turn 0.
    assert sum(1 for c in conversations if (c.expected.escalate_at or 0) >= 1) >= 8
    tiers = Counter(c.account.tier for c in conversations)
    assert {"standard", "key", "enterprise", "assisted"} <= {str(t) for t in tiers}


async def test_heldout_figures_do_not_slide_back(engine_on_db: EscalationEngine) -> None:
    report = await evaluate(engine_on_db, load_dataset(HELDOUT_SET))
    figures = report.as_dict()
    for name, floor in FLOORS.items():
        assert figures[name] >= floor, (name, figures[name], figures["failures"])
    for name, ceiling in CEILINGS.items():
        assert figures[name] <= ceiling, (name, figures[name], figures["failures"])
