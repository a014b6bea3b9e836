"""Compute: the seven handoff-quality measures over a window of escalations, from the facts
table only (``capture`` keeps it), with breakdowns per reason, skill and agent and a daily
series. docs/metrics.md defines each measure (clocks, numerators, denominators).

Times are whole seconds; percentiles are nearest-rank (the value at rank ceil(p*n) of the
sorted values); a rate is numerator / denominator (None when the denominator is 0).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, case, func, literal_column, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from warmline.hub.metrics.tables import HandoffFactRow

FAILED = ("lost", "no_response")
F = HandoffFactRow
DIMENSIONS = {"all": None, "reason": F.reason, "skill": F.skill, "agent": F.agent_id, "day": F.escalated_day}


def _count(condition: Any) -> Any:
    return func.sum(case((condition, 1), else_=0))


def _sum(condition: Any, value: Any) -> Any:
    return func.sum(case((condition, value), else_=0))


_resolved = F.resolved_at.is_not(None)
_rated = and_(_resolved, F.rating.is_not(None))
_failed = and_(_resolved, F.outcome.in_(FAILED))
_high = and_(_resolved, F.high_intent.is_(True))
# name -> aggregate; every one sums over the group's rows (SQL does the counting)
COUNTERS: dict[str, Any] = {
    "escalated": func.count(),
    "resolved": _count(_resolved),
    "reviewed": _count(and_(_resolved, F.reviewed.is_(True))),
    "requeued": _count(F.requeues > 0),
    "transferred": _count(F.transfers > 0),
    "ttfr_count": func.count(F.first_reply_seconds),
    "ttfr_sum": func.coalesce(func.sum(F.first_reply_seconds), 0),
    "res_count": _count(and_(_resolved, F.resolution_seconds.is_not(None))),
    "res_sum": _sum(_resolved, func.coalesce(F.resolution_seconds, 0)),
    "repeated": _count(and_(_resolved, or_(F.buyer_repeated.is_(True), F.repeat_detected.is_(True)))),
    "detected": _count(and_(_resolved, F.repeat_detected.is_(True))),
    "ticked": _count(and_(_resolved, F.buyer_repeated.is_(True))),
    "high": _count(_high),
    "high_order": _count(and_(_high, F.outcome == "order_placed")),
    "high_quote": _count(and_(_high, F.outcome == "quote_sent")),
    "rated_ai": _count(and_(_rated, F.ai_assisted.is_(True))),
    "rating_ai": _sum(and_(_rated, F.ai_assisted.is_(True)), F.rating),
    "rated_plain": _count(and_(_rated, F.ai_assisted.is_not(True))),
    "rating_plain": _sum(and_(_rated, F.ai_assisted.is_not(True)), F.rating),
    "unnecessary": _count(and_(_resolved, F.unnecessary.is_(True))),
    "failed": _count(_failed),
    "failed_late": _count(and_(_failed, F.late.is_(True))),
    "late": _count(and_(_resolved, F.late.is_(True))),
}
TIMES = {"ttfr": F.first_reply_seconds, "res": F.resolution_seconds}


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


def _times(count: int, total: int, p50: int | None, p90: int | None) -> dict[str, Any]:
    return {
        "count": count,
        "p50_seconds": p50,
        "p90_seconds": p90,
        "mean_seconds": round(total / count, 1) if count else None,
    }


def _rating(count: int, total: int) -> dict[str, Any]:
    return {"count": count, "sum": total, "mean": round(total / count, 3) if count else None}


def measures(c: dict[str, int], p: dict[str, int | None]) -> dict[str, Any]:
    """One group's report from its counters ``c`` and percentiles ``p`` (ttfr50, ttfr90, res50, res90)."""
    return {
        "counts": {
            "escalated": c["escalated"],
            "resolved": c["resolved"],
            "open": c["escalated"] - c["resolved"],
            "reviewed": c["reviewed"],
            "requeued": c["requeued"],
            "transferred": c["transferred"],
            "rated": c["rated_ai"] + c["rated_plain"],
        },
        "time_to_first_response": {
            **_times(c["ttfr_count"], c["ttfr_sum"], p.get("ttfr50"), p.get("ttfr90")),
            "without_reply": c["escalated"] - c["ttfr_count"],
        },
        "buyer_repeated": {
            **_rate(c["repeated"], c["resolved"]),
            "detected": c["detected"],
            "ticked": c["ticked"],
        },
        "high_intent_conversion": {**_rate(c["high_order"], c["high"]), "quote_sent": c["high_quote"]},
        "resolution_time": _times(c["res_count"], c["res_sum"], p.get("res50"), p.get("res90")),
        "satisfaction": {
            "ai_assisted": _rating(c["rated_ai"], c["rating_ai"]),
            "not_assisted": _rating(c["rated_plain"], c["rating_plain"]),
        },
        "unnecessary": {**_rate(c["unnecessary"], c["resolved"]), "reviewed": c["reviewed"]},
        "late_among_failed": {
            **_rate(c["failed_late"], c["failed"]),
            "late_all": _rate(c["late"], c["resolved"]),
        },
    }


def _where(stmt: Any, window: Window) -> Any:
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
    return stmt


def _key(column: Any) -> Any:
    return literal_column("''") if column is None else func.coalesce(column, literal_column("''"))


async def _counters(session: AsyncSession, window: Window, dim: str) -> dict[str, dict[str, int]]:
    key = _key(DIMENSIONS[dim])
    stmt = select(key.label("k"), *(agg.label(name) for name, agg in COUNTERS.items()))
    stmt = _where(stmt, window)
    if DIMENSIONS[dim] is not None:
        stmt = stmt.group_by(key)
    out: dict[str, dict[str, int]] = {}
    for row in (await session.execute(stmt)).mappings():
        values = {name: int(row[name] or 0) for name in COUNTERS}
        if values["escalated"]:
            out[str(row["k"])] = values
    return out


async def _percentiles_sqlite(session: AsyncSession, window: Window) -> dict[str, dict[str, dict]]:
    """SQLite (no percentile aggregate): each time's values in ascending order, once, dealt
    into every group they belong to; the nearest ranks are then read off the sorted lists."""
    keys = [(dim, column) for dim, column in DIMENSIONS.items() if column is not None]
    out: dict[str, dict[str, dict]] = {dim: {} for dim in DIMENSIONS}
    for name, column in TIMES.items():
        stmt = _where(select(column, *(c for _d, c in keys)).where(column.is_not(None)), window)
        lists: dict[str, dict[str, list[int]]] = {dim: {} for dim in DIMENSIONS}
        every = lists["all"].setdefault("", [])
        for value, *group_keys in (await session.execute(stmt.order_by(column))).all():
            every.append(value)
            for (dim, _c), k in zip(keys, group_keys, strict=True):
                lists[dim].setdefault(k or "", []).append(value)
        for dim, groups in lists.items():
            for k, values in groups.items():
                slot = out[dim].setdefault(k, {})
                slot[f"{name}50"] = percentile(values, 0.5)
                slot[f"{name}90"] = percentile(values, 0.9)
    return out


async def _postgres(session: AsyncSession, window: Window) -> dict[str, dict[str, Any]]:
    """PostgreSQL: every group in one scan (GROUPING SETS), counters and percentile_disc (the
    nearest rank: the first value whose cumulative share reaches p) together."""
    dims = [(dim, column) for dim, column in DIMENSIONS.items() if column is not None]
    pct = [
        func.percentile_disc(p / 100).within_group(column).label(f"{name}{p}")
        for name, column in TIMES.items()
        for p in (50, 90)
    ]
    flags = [func.grouping(column).label(f"g_{dim}") for dim, column in dims]
    stmt = select(
        *(column.label(f"k_{dim}") for dim, column in dims),
        *flags,
        *(agg.label(name) for name, agg in COUNTERS.items()),
        *pct,
    )
    sets = [tuple_()] + [tuple_(column) for _dim, column in dims]
    stmt = _where(stmt, window).group_by(func.grouping_sets(*sets))
    out: dict[str, dict[str, Any]] = {dim: {} for dim in DIMENSIONS}
    for row in (await session.execute(stmt)).mappings():
        dim = next((d for d, _c in dims if row[f"g_{d}"] == 0), "all")
        key = "" if dim == "all" else (row[f"k_{dim}"] or "")
        counters = {name: int(row[name] or 0) for name in COUNTERS}
        ranks = {n: (None if row[n] is None else int(row[n])) for n in ("ttfr50", "ttfr90", "res50", "res90")}
        if counters["escalated"]:
            out[dim][key] = measures(counters, ranks)
    return {dim: dict(sorted(groups.items())) for dim, groups in out.items()}


async def compute(session: AsyncSession, window: Window) -> dict[str, Any]:
    """The report for the window: overall, per reason / skill / agent, and per day."""
    if session.bind.dialect.name == "postgresql":
        parts = await _postgres(session, window)
    else:
        ranks = await _percentiles_sqlite(session, window)
        parts = {}
        for dim in DIMENSIONS:
            counters = await _counters(session, window, dim)
            parts[dim] = {k: measures(c, ranks[dim].get(k, {})) for k, c in sorted(counters.items())}
    empty = {name: 0 for name in COUNTERS}
    return {
        "window": window.as_dict(),
        **parts["all"].get("", measures(empty, {})),
        "by_reason": parts["reason"],
        "by_skill": parts["skill"],
        "by_agent": parts["agent"],
        "daily": [{"day": k, **m} for k, m in parts["day"].items()],
    }
