"""Replaying labelled conversations through the engine and scoring its escalation decisions.

File format (JSON Lines, one conversation per line; extra fields are allowed)::

    {"id": "...", "account": {"company": "...", "tier": "enterprise"},
     "buyer_turns": ["...", "..."],
     "expected": {"outcomes": ["clarify", "escalate"], "escalate_at": 1, "reason": "low_confidence"}}

Each buyer turn is posted, the engine decides, its reply is appended as the AI's turn,
and replay stops at the engine's first escalation. Scores are per conversation for the
escalate decision (did it hand off at all) and per turn for the outcome confusion table.
"""

# ruff: noqa: E501 - plain sentences and regexes read better unbroken

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from warmline.domain.models import AuthorKind
from warmline.domain.packet import AccountFacts, ReasonCategory
from warmline.escalation.models import Decision, Outcome, Turn

OUTCOMES = [o.value for o in Outcome]
REASONS = [r.value for r in ReasonCategory]


class DatasetError(ValueError):
    """A line of an eval file that cannot be used; the message names the line and field."""


class Expected(BaseModel):
    model_config = ConfigDict(extra="allow")

    outcomes: list[Outcome] = Field(min_length=1)
    escalate_at: int | None = Field(default=None, ge=0)
    reason: ReasonCategory | None = None
    sub_reason: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Expected:
        first = next((i for i, o in enumerate(self.outcomes) if o is Outcome.ESCALATE), None)
        if first != self.escalate_at:
            raise ValueError(
                f"escalate_at is {self.escalate_at} but the first 'escalate' outcome is at {first}"
            )
        if (self.escalate_at is None) != (self.reason is None):
            raise ValueError("reason must be set exactly when escalate_at is set")
        return self


class LabelledConversation(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str = Field(min_length=1)
    account: AccountFacts = Field(default_factory=AccountFacts)
    buyer_turns: list[str] = Field(min_length=1)
    expected: Expected

    @model_validator(mode="after")
    def _lengths(self) -> LabelledConversation:
        if len(self.expected.outcomes) != len(self.buyer_turns):
            raise ValueError(
                f"expected.outcomes has {len(self.expected.outcomes)} labels for {len(self.buyer_turns)} buyer turns"
            )
        if any(not t.strip() for t in self.buyer_turns):
            raise ValueError("buyer_turns: a buyer turn is empty")
        return self


def load_dataset(path: Path | str) -> list[LabelledConversation]:
    """Read and validate an eval file; errors name the line number, field and reason."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError as exc:
        raise DatasetError(f"{path}: file not found") from exc
    conversations: list[LabelledConversation] = []
    seen: set[str] = set()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{path}:{number}: not valid JSON ({exc.msg})") from exc
        try:
            conversation = LabelledConversation.model_validate(raw)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'line'}: {err['msg']}" for err in exc.errors()
            )
            raise DatasetError(f"{path}:{number}: {problems}") from exc
        if conversation.id in seen:
            raise DatasetError(f"{path}:{number}: id: duplicate id {conversation.id!r}")
        seen.add(conversation.id)
        conversations.append(conversation)
    if not conversations:
        raise DatasetError(f"{path}: no conversations")
    return conversations


@dataclass
class Replay:
    """What the engine did with one labelled conversation."""

    conversation: LabelledConversation
    decisions: list[Decision]

    @property
    def predicted(self) -> list[str]:
        return [d.outcome.value for d in self.decisions]

    @property
    def escalated_at(self) -> int | None:
        return next((i for i, d in enumerate(self.decisions) if d.escalates), None)

    @property
    def reason(self) -> str | None:
        at = self.escalated_at
        if at is None:
            return None
        r = self.decisions[at].reason
        return r.value if r else None


async def replay(engine: Any, conversation: LabelledConversation) -> Replay:
    """Post each buyer turn, decide, append the AI's reply; stop at the first escalation."""
    turns: list[Turn] = []
    decisions: list[Decision] = []
    for body in conversation.buyer_turns:
        turns.append(Turn(seq=len(turns) + 1, author_kind=AuthorKind.BUYER, body=body))
        decision = await engine.decide(turns, conversation.account)
        decisions.append(decision)
        turns.append(Turn(seq=len(turns) + 1, author_kind=AuthorKind.AI, body=decision.reply))
        if decision.escalates:
            break
    return Replay(conversation, decisions)


@dataclass
class Report:
    """The figures of one evaluation run."""

    conversations: int
    tp: int
    fp: int
    fn: int
    tn: int
    reason_correct: int
    unnecessary: int
    late: int
    missed: int
    turns_late: list[int]
    turn_total: int
    turn_correct: int
    confusion: dict[str, dict[str, int]]
    failures: list[dict[str, Any]] = field(default_factory=list)
    # rows: labelled reason ("none" = stays with the AI), columns: the engine's reason at its handoff
    reason_confusion: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def reason_accuracy(self) -> float:
        return self.reason_correct / self.tp if self.tp else 0.0

    @property
    def escalations(self) -> int:
        return self.tp + self.fp

    @property
    def expected_escalations(self) -> int:
        return self.tp + self.fn

    @property
    def unnecessary_rate(self) -> float:
        """Share of the engine's handoffs that came earlier than labelled, or were not labelled at all."""
        return self.unnecessary / self.escalations if self.escalations else 0.0

    @property
    def late_rate(self) -> float:
        """Share of labelled handoffs the engine made later than labelled, or never."""
        return self.late / self.expected_escalations if self.expected_escalations else 0.0

    @property
    def mean_turns_late(self) -> float:
        return sum(self.turns_late) / len(self.turns_late) if self.turns_late else 0.0

    @property
    def outcome_accuracy(self) -> float:
        return self.turn_correct / self.turn_total if self.turn_total else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "conversations": self.conversations,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "reason_accuracy": round(self.reason_accuracy, 4),
            "unnecessary_rate": round(self.unnecessary_rate, 4),
            "late_rate": round(self.late_rate, 4),
            "mean_turns_late": round(self.mean_turns_late, 3),
            "missed": self.missed,
            "outcome_accuracy": round(self.outcome_accuracy, 4),
            "counts": {
                "tp": self.tp,
                "fp": self.fp,
                "fn": self.fn,
                "tn": self.tn,
                "unnecessary": self.unnecessary,
                "late": self.late,
                "turns": self.turn_total,
            },
            "confusion": self.confusion,
            "reason_confusion": self.reason_confusion,
            "by_reason": self.by_reason(),
            "failures": self.failures,
        }

    def by_reason(self) -> dict[str, dict[str, float | int]]:
        """Per escalation reason: precision and recall of "handed off, for this reason"."""
        out: dict[str, dict[str, float | int]] = {}
        for reason in REASONS:
            row = self.reason_confusion.get(reason, {})
            tp = row.get(reason, 0)
            labelled = sum(row.values())
            predicted = sum(r.get(reason, 0) for r in self.reason_confusion.values())
            out[reason] = {
                "labelled": labelled,
                "predicted": predicted,
                "precision": round(tp / predicted, 4) if predicted else 1.0,
                "recall": round(tp / labelled, 4) if labelled else 1.0,
            }
        return out


def score(replays: list[Replay]) -> Report:
    """Precision/recall/F1 of escalating, reason accuracy, unnecessary and late rates, confusion."""
    tp = fp = fn = tn = reason_correct = unnecessary = late = missed = 0
    turns_late: list[int] = []
    confusion = {e: dict.fromkeys(OUTCOMES, 0) for e in OUTCOMES}
    reason_confusion = {e: dict.fromkeys([*REASONS, "none"], 0) for e in [*REASONS, "none"]}
    turn_total = turn_correct = 0
    failures: list[dict[str, Any]] = []
    for r in replays:
        expected = r.conversation.expected
        want_at, got_at = expected.escalate_at, r.escalated_at
        reason_confusion[expected.reason.value if expected.reason else "none"][r.reason or "none"] += 1
        for i, got in enumerate(r.predicted):
            want = expected.outcomes[i].value
            confusion[want][got] += 1
            turn_total += 1
            turn_correct += want == got
        problem = None
        if want_at is not None and got_at is not None:
            tp += 1
            if r.reason == expected.reason.value:  # type: ignore[union-attr]
                reason_correct += 1
            else:
                problem = f"reason {r.reason} (expected {expected.reason.value})"  # type: ignore[union-attr]
            if got_at < want_at:
                unnecessary += 1
                problem = f"escalated at turn {got_at}, expected {want_at}"
            elif got_at > want_at:
                late += 1
                turns_late.append(got_at - want_at)
                problem = f"escalated at turn {got_at}, {got_at - want_at} late"
        elif want_at is not None:
            fn += 1
            late += 1
            missed += 1
            problem = f"never escalated (expected at turn {want_at}, {expected.reason.value})"  # type: ignore[union-attr]
        elif got_at is not None:
            fp += 1
            unnecessary += 1
            problem = f"escalated at turn {got_at} ({r.reason}), expected no handoff"
        else:
            tn += 1
        if problem is None and r.predicted != [o.value for o in expected.outcomes[: len(r.predicted)]]:
            problem = "outcomes differ"
        if problem:
            failures.append(
                {
                    "id": r.conversation.id,
                    "problem": problem,
                    "expected": [o.value for o in expected.outcomes],
                    "predicted": r.predicted,
                    "sub_reason": r.decisions[got_at].sub_reason if got_at is not None else None,
                    "turns": _explain(r),
                }
            )
    return Report(
        conversations=len(replays),
        tp=tp,
        fp=fp,
        fn=fn,
        tn=tn,
        reason_correct=reason_correct,
        unnecessary=unnecessary,
        late=late,
        missed=missed,
        turns_late=turns_late,
        turn_total=turn_total,
        turn_correct=turn_correct,
        confusion=confusion,
        failures=failures,
        reason_confusion=reason_confusion,
    )


# Signals that explain an outcome best, in the order they are listed for a miss.
_TELLING = (
    "explicit_request",
    "model_intent",
    "live_data",
    "purchase_intent",
    "quantity_over_threshold",
    "regulated_category",
    "frustration",
    "complex_specification",
    "intent",
    "clarification_loop",
    "rephrasing",
    "weak_retrieval",
    "unverified_compatibility",
    "llm_judge",
    "reading_budget_exceeded",
)


def _explain(r: Replay) -> list[dict[str, Any]]:
    """Per buyer turn of a miss: what was said, labelled, decided, and the signals behind it."""
    out = []
    expected = r.conversation.expected.outcomes
    for i, decision in enumerate(r.decisions):
        signals = sorted(
            (s for s in decision.signals if s.turn in (None, decision.turn)),
            key=lambda s: _TELLING.index(s.name) if s.name in _TELLING else len(_TELLING),
        )
        out.append(
            {
                "turn": i,
                "buyer": r.conversation.buyer_turns[i][:200],
                "expected": expected[i].value,
                "decided": decision.outcome.value,
                "reason": f"{decision.reason.value}/{decision.sub_reason}" if decision.reason else None,
                "intent": decision.intent,
                "signals": [
                    f"{s.name}={s.value}" + (f" ({s.detail[:80]})" if s.detail else "") for s in signals[:4]
                ],
            }
        )
    return out


async def evaluate(engine: Any, conversations: list[LabelledConversation]) -> Report:
    """Replay every conversation and score the lot."""
    return score([await replay(engine, c) for c in conversations])


def format_report(report: Report, by_intent: bool = False, explain: bool = True) -> str:
    """The human-readable report `warmline eval escalation` prints."""
    lines = [
        f"conversations      {report.conversations}",
        f"precision          {report.precision:.3f}   (escalated when a handoff was labelled)",
        f"recall             {report.recall:.3f}   (labelled handoffs the engine made)",
        f"f1                 {report.f1:.3f}",
        f"reason accuracy    {report.reason_accuracy:.3f}   ({report.reason_correct}/{report.tp})",
        f"unnecessary rate   {report.unnecessary_rate:.3f}   ({report.unnecessary}/{report.escalations} handoffs "
        "earlier than labelled or unlabelled)",
        f"late rate          {report.late_rate:.3f}   ({report.late}/{report.expected_escalations} labelled "
        f"handoffs; {report.missed} never made; mean {report.mean_turns_late:.2f} turns late when made late)",
        f"outcome accuracy   {report.outcome_accuracy:.3f}   ({report.turn_correct}/{report.turn_total} turns)",
        "",
        "confusion (rows: labelled, columns: engine)",
        "                " + "".join(f"{o:>11}" for o in OUTCOMES),
    ]
    for want in OUTCOMES:
        lines.append(f"{want:<16}" + "".join(f"{report.confusion[want][got]:>11}" for got in OUTCOMES))
    cols = [*REASONS, "none"]
    short = {r: r.replace("_", " ")[:11] for r in cols}
    lines += [
        "",
        "reasons (rows: labelled, columns: engine; none = no handoff)",
        " " * 18 + "".join(f"{short[c]:>12}" for c in cols),
    ]
    for want in cols:
        lines.append(f"{want:<18}" + "".join(f"{report.reason_confusion[want][got]:>12}" for got in cols))
    if by_intent:
        lines += ["", "by escalation intent (reason)     labelled  handed off  precision  recall"]
        for reason, row in report.by_reason().items():
            lines.append(
                f"  {reason:<32}{row['labelled']:>8}{row['predicted']:>12}{row['precision']:>11.3f}{row['recall']:>8.3f}"
            )
    if report.failures:
        lines += ["", f"disagreements ({len(report.failures)}):"]
        for f in report.failures:
            lines.append(f"  {f['id']}: {f['problem']}")
            if explain:
                for t in f.get("turns", []):
                    mark = " " if t["expected"] == t["decided"] else "!"
                    why = f" {t['reason']}" if t["reason"] else ""
                    lines.append(f"   {mark} turn {t['turn']}: \u201c{t['buyer'][:90]}\u201d")
                    lines.append(
                        f"       labelled {t['expected']}, decided {t['decided']}{why} [intent {t['intent']}]"
                    )
                    if t["signals"]:
                        lines.append(f"       signals: {'; '.join(t['signals'])}")
    return "\n".join(lines)
