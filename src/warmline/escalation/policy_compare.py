"""Before/after: the same labelled conversations scored under the shipped policy and under a
changed one, side by side (`warmline eval escalation FILE --policy NEW.toml --compare`).

Used with `warmline review export` (docs/metrics.md): a team replays its own reviewed
escalations -- unnecessary ones should stop escalating, late ones should escalate at the
turn the reviewer picked -- against a policy change before adopting it.
"""

from __future__ import annotations

from typing import Any

ROWS = (
    ("precision", "higher"),
    ("recall", "higher"),
    ("f1", "higher"),
    ("unnecessary_rate", "lower"),
    ("late_rate", "lower"),
    ("mean_turns_late", "lower"),
    ("reason_accuracy", "higher"),
    ("outcome_accuracy", "higher"),
    ("missed", "lower"),
)


def compare(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Each headline figure before and after, and which conversations the change fixed or broke."""
    failed_before = {f["id"] for f in before.get("failures", [])}
    failed_after = {f["id"] for f in after.get("failures", [])}
    return {
        "conversations": before["conversations"],
        "figures": {
            name: {
                "before": before[name],
                "after": after[name],
                "change": round(after[name] - before[name], 4),
            }
            for name, _better in ROWS
        },
        "fixed": sorted(failed_before - failed_after),
        "broken": sorted(failed_after - failed_before),
    }


def format_comparison(result: dict[str, Any], policy_name: str) -> str:
    lines = [
        f"{result['conversations']} conversations: shipped policy (before) vs {policy_name} (after)",
        f"{'':<18}{'before':>10}{'after':>10}{'change':>10}",
    ]
    for name, better in ROWS:
        row = result["figures"][name]
        change = row["change"]
        mark = ""
        if change:
            improved = (change > 0) == (better == "higher")
            mark = "  better" if improved else "  worse"
        lines.append(f"{name:<18}{row['before']:>10}{row['after']:>10}{change:>+10.4g}{mark}")
    lines.append(f"now right ({len(result['fixed'])}): {', '.join(result['fixed']) or '-'}")
    lines.append(f"now wrong ({len(result['broken'])}): {', '.join(result['broken']) or '-'}")
    return "\n".join(lines)
