"""`warmline report [--from --to] [--json | --csv FILE | --html FILE]` (the measures of
``compute`` straight from the database) and `warmline review export FILE.jsonl` (reviewed
escalations in the `warmline eval escalation` format, to replay against a changed policy).
"""

from __future__ import annotations

import csv
import html
import json
from pathlib import Path
from typing import Any

import click
from sqlalchemy import select

from warmline.hub.commands import _settings, _with_db, database_option
from warmline.hub.metrics.compute import Window, compute, parse_when
from warmline.hub.metrics.tables import HandoffFactRow

TIME_ROWS = ("time_to_first_response", "resolution_time")
RATE_ROWS = ("buyer_repeated", "high_intent_conversion", "unnecessary", "late_among_failed")


def _duration(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    hours, rest = divmod(int(seconds), 3600)
    return f"{hours}h{rest // 60:02d}m" if hours else f"{rest // 60}m{rest % 60:02d}s"


def flat(scope: str, key: str, m: dict[str, Any]) -> dict[str, Any]:
    """One CSV/HTML row: a group's counts, times and rates."""
    row: dict[str, Any] = {"scope": scope, "key": key, **m["counts"]}
    for name in TIME_ROWS:
        row[f"{name}_p50_s"] = m[name]["p50_seconds"]
        row[f"{name}_p90_s"] = m[name]["p90_seconds"]
    for name in RATE_ROWS:
        row[f"{name}_num"] = m[name]["numerator"]
        row[f"{name}_den"] = m[name]["denominator"]
        row[f"{name}_rate"] = m[name]["rate"]
    for side in ("ai_assisted", "not_assisted"):
        row[f"rating_{side}_mean"] = m["satisfaction"][side]["mean"]
        row[f"rating_{side}_count"] = m["satisfaction"][side]["count"]
    return row


def rows_of(report: dict[str, Any]) -> list[dict[str, Any]]:
    out = [flat("all", "", report)]
    for scope in ("reason", "skill", "agent"):
        out += [flat(scope, k, m) for k, m in report[f"by_{scope}"].items()]
    out += [flat("day", d["day"], d) for d in report["daily"]]
    return out


def text(report: dict[str, Any]) -> str:
    c = report["counts"]
    lines = [
        f"escalations {c['escalated']}  resolved {c['resolved']}  open {c['open']}  "
        f"reviewed {c['reviewed']}  requeued {c['requeued']}  transferred {c['transferred']}",
    ]
    for name in TIME_ROWS:
        t = report[name]
        p50, p90 = _duration(t["p50_seconds"]), _duration(t["p90_seconds"])
        lines.append(f"{name:<26} n={t['count']:<6} p50 {p50:>8}  p90 {p90:>8}")
    for name in RATE_ROWS:
        r = report[name]
        shown = "-" if r["rate"] is None else f"{100 * r['rate']:.1f}%"
        lines.append(f"{name:<26} {shown:>7}  ({r['numerator']}/{r['denominator']})")
    for side in ("ai_assisted", "not_assisted"):
        s = report["satisfaction"][side]
        lines.append(f"rating {side:<19} {s['mean'] if s['mean'] is not None else '-':>7}  (n={s['count']})")
    return "\n".join(lines)


def html_page(report: dict[str, Any]) -> str:
    rows = rows_of(report)
    head = "".join(f"<th>{html.escape(k)}</th>" for k in rows[0])
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape('' if v is None else str(v))}</td>" for v in r.values()) + "</tr>"
        for r in rows
    )
    return (
        "<!doctype html><meta charset=utf-8><title>Warmline handoff report</title>"
        "<style>body{font:14px system-ui}td,th{padding:2px 6px;border-bottom:1px solid #ccc}</style>"
        f"<h1>Handoff report</h1><pre>{html.escape(text(report))}</pre>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


@click.command("report")
@click.option("--from", "from_", default=None, help="YYYY-MM-DD or ISO time (escalated at or after)")
@click.option("--to", default=None, help="YYYY-MM-DD (that day included) or ISO time (before)")
@click.option("--skill", default=None)
@click.option("--agent", default=None, help="agent id")
@click.option("--reason", default=None)
@click.option("--json", "as_json", is_flag=True, help="the whole report as JSON on stdout")
@click.option("--csv", "csv_file", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--html", "html_file", type=click.Path(dir_okay=False, path_type=Path), default=None)
@database_option
def report(
    from_: str | None,
    to: str | None,
    skill: str | None,
    agent: str | None,
    reason: str | None,
    as_json: bool,
    csv_file: Path | None,
    html_file: Path | None,
    database_url: str | None,
) -> None:
    """The seven handoff-quality measures (docs/metrics.md) for a window of escalations."""
    try:
        window = Window(
            start=parse_when(from_) if from_ else None,
            end=parse_when(to, end=True) if to else None,
            skill=skill,
            agent=agent,
            reason=reason,
        )
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    url = _settings(database_url=database_url).database_url

    async def run(db: Any) -> dict[str, Any]:
        async with db.read() as session:
            return await compute(session, window)

    result = _with_db(url, run)
    if csv_file is not None:
        rows = rows_of(result)
        with csv_file.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    if html_file is not None:
        html_file.write_text(html_page(result), encoding="utf-8")
    click.echo(json.dumps(result, indent=2) if as_json else text(result))


@click.group("review")
def review() -> None:
    """Reviewed escalations: export them for `warmline eval escalation`."""


def eval_line(
    facts: Any, packet: dict[str, Any], messages: list[tuple[int, str, str]]
) -> dict[str, Any] | None:
    """A reviewed handoff as a labelled conversation: buyer turns up to the escalation (or the
    late turn), expected outcomes from the review (unnecessary: never escalate; late: escalate
    at the picked turn; otherwise: escalate where it did)."""
    upto = facts.escalated_seq
    if facts.late and facts.late_turn:
        upto = max(upto, facts.late_turn)
    buyer = [(seq, body) for seq, kind, body in messages if kind == "buyer" and seq <= upto and body.strip()]
    if not buyer:
        return None
    if facts.unnecessary:
        outcomes = ["answer"] * len(buyer)
        at, reason = None, None
    else:
        at = len(buyer) - 1
        if facts.late and facts.late_turn:
            at = max(0, sum(1 for seq, _ in buyer if seq <= facts.late_turn) - 1)
        buyer = buyer[: at + 1]
        outcomes = ["answer"] * at + ["escalate"]
        reason = facts.reason
    return {
        "id": facts.handoff_id,
        "account": packet.get("account") or {},
        "buyer_turns": [body for _seq, body in buyer],
        "expected": {"outcomes": outcomes, "escalate_at": at, "reason": reason},
        "review": {"unnecessary": facts.unnecessary, "late": facts.late, "late_turn": facts.late_turn},
    }


@review.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--from", "from_", default=None, help="YYYY-MM-DD: escalated on or after")
@click.option("--to", default=None, help="YYYY-MM-DD: escalated on or before")
@database_option
def export(file: Path, from_: str | None, to: str | None, database_url: str | None) -> None:
    """Write reviewed escalations to FILE.jsonl (the `warmline eval escalation` format)."""
    from warmline.hub.store.tables import HandoffRow, MessageRow

    url = _settings(database_url=database_url).database_url
    F = HandoffFactRow

    async def run(db: Any) -> list[dict[str, Any]]:
        out = []
        async with db.read() as session:
            stmt = select(F, HandoffRow.packet).join(HandoffRow, HandoffRow.id == F.handoff_id)
            stmt = stmt.where(F.reviewed.is_(True)).order_by(F.escalated_at)
            if from_:
                stmt = stmt.where(F.escalated_at >= parse_when(from_))
            if to:
                stmt = stmt.where(F.escalated_at < parse_when(to, end=True))
            for facts, packet in (await session.execute(stmt)).all():
                messages = (
                    await session.execute(
                        select(MessageRow.seq, MessageRow.author_kind, MessageRow.body)
                        .where(MessageRow.conversation_id == facts.conversation_id)
                        .order_by(MessageRow.seq)
                    )
                ).all()
                line = eval_line(facts, packet, [(int(s), str(k), str(b)) for s, k, b in messages])
                if line is not None:
                    out.append(line)
        return out

    lines = _with_db(url, run)
    with file.open("w", encoding="utf-8") as fh:
        for line in lines:
            fh.write(json.dumps(line, ensure_ascii=False) + "\n")
    click.echo(f"{len(lines)} reviewed escalations written to {file}", err=True)
