"""The loop's last step (issue 13 item 7): `warmline eval escalation FILE --policy NEW.toml
--compare` scores the shipped policy and the changed one on the same conversations and shows
them side by side, naming the conversations the change fixed or broke."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from warmline.cli import main

DATA = Path(__file__).parents[1] / "data" / "escalation-eval.jsonl"


def test_before_after_on_a_policy_change(tmp_path: Path) -> None:
    lines = DATA.read_text().splitlines()
    picked = lines[:2] + [x for x in lines if '"reason": "purchase_intent"' in x][:2]
    data = tmp_path / "reviews.jsonl"
    data.write_text("\n".join(picked) + "\n")
    policy = tmp_path / "new.toml"
    policy.write_text("[escalate]\npurchase_intent = false\n")
    ids = [json.loads(x)["id"] for x in picked[2:]]

    args = ["eval", "escalation", str(data), "--policy", str(policy), "--compare"]
    result = CliRunner().invoke(main, [*args, "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["conversations"] == 4
    recall, missed = out["figures"]["recall"], out["figures"]["missed"]
    assert recall["before"] == 1.0 and recall["after"] < 1.0 and recall["change"] < 0
    # the purchase-intent conversations that no longer hand off are named, and only those
    assert out["broken"] and set(out["broken"]) <= set(ids) and out["fixed"] == []
    assert missed["before"] == 0 and 1 <= missed["change"] <= len(out["broken"])

    text = CliRunner().invoke(main, args).stdout
    assert "shipped policy (before) vs new.toml (after)" in text and "worse" in text
    refused = CliRunner().invoke(main, ["eval", "escalation", str(data), "--compare"])
    assert refused.exit_code != 0 and "--compare needs --policy" in refused.output
