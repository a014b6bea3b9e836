"""Compute: the seven handoff-quality measures over a window of escalations, from the facts
table only (``capture`` keeps it), with breakdowns per reason, skill and agent and a daily
series. docs/metrics.md defines each measure (clocks, numerators, denominators).

Times are whole seconds; percentiles are nearest-rank (the value at rank ceil(p*n) of the
sorted values); a rate is numerator / denominator (None when the denominator is 0).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from warmline.hub.metrics.tables import HandoffFactRow

FAILED = ("lost", "no_response")
F = HandoffFactRow
COLUMNS = (
    F.escalated_day,
    F.reason,
    F.skill,
    F.agent_id,
    F.high_intent,
    F.first_reply_seconds,
    F.resolution_seconds,
    F.resolved_at.is_not(None),
    F.outcome,
    F.unnecessary,
    F.late,
    F.buyer_repeated,
    F.repeat_detected,
    F.ai_assisted,
    F.rating,
    F.requeues,
    F.transfers,
    F.reviewed,
)


@dataclass
class Window:
    start: datetime | None = None
    end: datetime | None = None  # exclusive
    skill: str | None = None
    agent: str | None = None
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "from": self.start.isoformat() if self.start else None,
            "to": self.end.isoformat() if self.end else None,
            "skill": self.skill,
            "agent": self.agent,
            "reason": self.reason,
        }


def parse_when(text: str, *, end: bool = False) -> datetime:
    """'2026-03-01' (a whole day: as ``to``, the day is included) or an ISO time; UTC if naive."""
    text = text.strip()
    if len(text) == 10:
        day = date.fromisoformat(text)
        moment = datetime.combine(day, time(0), tzinfo=UTC)
        return moment + timedelta(days=1) if end else moment
    when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def percentile(sorted_values: Sequence[int], p: float) -> int | None:
    """Nearest rank: the value at rank ceil(p * n) (1-based) of the sorted values."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(p * len(sorted_values)))
    return sorted_values[rank - 1]


def _rate(numerator: int, denominator: int) -> dict[str, Any]:
    return {
        "numerator": numerator,
        "denominator": denominator,
        "rate": round(numerator / denominator, 4) if denominator else None,
    }


def _times(values: list[int], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    values.sort()
    out = {
        "count": len(values),
        "p50_seconds": percentile(values, 0.5),
        "p90_seconds": percentile(values, 0.9),
        "mean_seconds": round(sum(values) / len(values), 1) if values else None,
    }
    return {**out, **(extra or {})}


def _rating(values: list[int]) -> dict[str, Any]:
    return {
        "count": len(values),
        "sum": sum(values),
        "mean": round(sum(values) / len(values), 3) if values else None,
    }


@dataclass
class Group:
    """The rows of one group (all, a reason, a skill, an agent, a day)."""

    rows: list[tuple[Any, ...]] = field(default_factory=list)

    def measures(self) -> dict[str, Any]:
        rows = self.rows
        resolved = [r for r in rows if r[7]]
        ttfr = [r[5] for r in rows if r[5] is not None]
        resolution = [r[6] for r in resolved if r[6] is not None]
        high = [r for r in resolved if r[4]]
        failed = [r for r in resolved if r[8] in FAILED]
        rated_ai = [r[14] for r in resolved if r[14] is not None and r[13]]
        rated_plain = [r[14] for r in resolved if r[14] is not None and not r[13]]
        repeated = [r for r in resolved if r[11] or r[12]]
        return {
            "counts": {
                "escalated": len(rows),
                "resolved": len(resolved),
                "open": len(rows) - len(resolved),
                "reviewed": sum(1 for r in resolved if r[17]),
                "requeued": sum(1 for r in rows if r[15]),
                "transferred": sum(1 for r in rows if r[16]),
                "rated": len(rated_ai) + len(rated_plain),
            },
            "time_to_first_response": _times(ttfr, {"without_reply": len(rows) - len(ttfr)}),
            "buyer_repeated": {
                **_rate(len(repeated), len(resolved)),
                "detected": sum(1 for r in resolved if r[12]),
                "ticked": sum(1 for r in resolved if r[11]),
            },
            "high_intent_conversion": {
                **_rate(sum(1 for r in high if r[8] == "order_placed"), len(high)),
                "quote_sent": sum(1 for r in high if r[8] == "quote_sent"),
            },
            "resolution_time": _times(resolution),
            "satisfaction": {"ai_assisted": _rating(rated_ai), "not_assisted": _rating(rated_plain)},
            "unnecessary": {
                **_rate(sum(1 for r in resolved if r[9]), len(resolved)),
                "reviewed": sum(1 for r in resolved if r[17]),
            },
            "late_among_failed": {
                **_rate(sum(1 for r in failed if r[10]), len(failed)),
                "late_all": _rate(sum(1 for r in resolved if r[10]), len(resolved)),
            },
        }


async def fetch(session: AsyncSession, window: Window) -> list[tuple[Any, ...]]:
    stmt = select(*COLUMNS)
    if window.start is not None:
        stmt = stmt.where(F.escalated_at >= window.start)
    if window.end is not None:
        stmt = stmt.where(F.escalated_at < window.end)
    if window.skill:
        stmt = stmt.where(F.skill == window.skill)
    if window.agent:
        stmt = stmt.where(F.agent_id == window.agent)
    if window.reason:
        stmt = stmt.where(F.reason == window.reason)
    result = await session.execute(stmt)
    return [tuple(r) for r in result.all()]


def summarise(rows: list[tuple[Any, ...]], window: Window) -> dict[str, Any]:
    """The report for these facts rows: overall, per reason / skill / agent, and per day."""
    by: dict[str, dict[str, Group]] = {"reason": {}, "skill": {}, "agent": {}, "day": {}}
    for r in rows:
        for name, key in (("day", r[0]), ("reason", r[1]), ("skill", r[2] or ""), ("agent", r[3] or "")):
            group = by[name].get(key)
            if group is None:
                group = by[name][key] = Group()
            group.rows.append(r)
    return {
        "window": window.as_dict(),
        **Group(rows).measures(),
        "by_reason": {k: g.measures() for k, g in sorted(by["reason"].items())},
        "by_skill": {k: g.measures() for k, g in sorted(by["skill"].items())},
        "by_agent": {k: g.measures() for k, g in sorted(by["agent"].items())},
        "daily": [{"day": k, **g.measures()} for k, g in sorted(by["day"].items())],
    }


async def compute(session: AsyncSession, window: Window) -> dict[str, Any]:
    return summarise(await fetch(session, window), window)
