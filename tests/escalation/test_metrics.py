"""The scoring arithmetic on hand-made replays (no engine involved)."""

# ruff: noqa: E501 - plain sentences and regexes read better unbroken

from __future__ import annotations

from warmline.domain.packet import ReasonCategory
from warmline.escalation.evaluation import LabelledConversation, Replay, score
from warmline.escalation.models import Decision, Outcome


def labelled(id: str, outcomes: list[str], reason: str | None) -> LabelledConversation:
    at = outcomes.index("escalate") if "escalate" in outcomes else None
    return LabelledConversation.model_validate(
        {"id": id, "buyer_turns": ["x"] * len(outcomes),
         "expected": {"outcomes": outcomes, "escalate_at": at, "reason": reason}}
    )  # fmt: skip


def decided(*outcomes: str, reason: ReasonCategory | None = None) -> list[Decision]:
    return [
        Decision(outcome=Outcome(o), reason=reason if o == "escalate" else None, reply="r") for o in outcomes
    ]


def test_score_counts_early_late_missed_and_wrong_reason() -> None:
    lc, live = ReasonCategory.LOW_CONFIDENCE, ReasonCategory.LIVE_DATA
    replays = [
        Replay(labelled("exact", ["clarify", "escalate"], "low_confidence"), decided("clarify", "escalate", reason=lc)),
        Replay(labelled("early", ["clarify", "escalate"], "low_confidence"), decided("escalate", reason=lc)),
        Replay(labelled("late", ["answer", "escalate", "escalate"], "live_data"),
               decided("answer", "answer", "escalate", reason=live)),
        Replay(labelled("missed", ["answer", "escalate"], "live_data"), decided("answer", "answer")),
        Replay(labelled("wrong-reason", ["escalate"], "live_data"), decided("escalate", reason=lc)),
        Replay(labelled("unlabelled", ["answer"], None), decided("escalate", reason=lc)),
        Replay(labelled("quiet", ["next_step"], None), decided("next_step")),
    ]  # fmt: skip
    report = score(replays)
    assert (report.tp, report.fp, report.fn, report.tn) == (4, 1, 1, 1)
    assert report.precision == 4 / 5 and report.recall == 4 / 5
    assert abs(report.f1 - 0.8) < 1e-9
    assert report.reason_accuracy == 3 / 4
    assert report.unnecessary == 2 and report.unnecessary_rate == 2 / 5
    assert report.late == 2 and report.late_rate == 2 / 5 and report.missed == 1
    assert report.turns_late == [1] and report.mean_turns_late == 1.0
    assert report.confusion["escalate"]["answer"] == 2  # late + missed
    assert report.confusion["clarify"]["escalate"] == 1  # early
    assert report.confusion["answer"]["escalate"] == 1  # unlabelled
    assert {f["id"] for f in report.failures} == {"early", "late", "missed", "wrong-reason", "unlabelled"}
