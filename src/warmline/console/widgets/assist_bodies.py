"""Rich-text bodies of the assistant's result cards, per lookup kind, and their status line.

Pure functions from a result's ``data`` (plain dicts: the catalog's types stay on the hub's
side of the wire, tolerant of missing keys) to HTML; ``AssistCard`` shows them. This is what
the specialist reads; what goes to the buyer is ``warmline.console.reply_text``.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import Any

from warmline.console.models.assist_model import REFUSED, SUBMITTING, AssistEntry
from warmline.domain.assist import AssistKind, AssistStatus

KIND_LABELS: dict[AssistKind, str] = {
    AssistKind.SPEC: "Spec sheet",
    AssistKind.SUBSTITUTES: "Substitutes",
    AssistKind.ACCESSORIES: "Accessories",
    AssistKind.COMPARE: "Compare",
    AssistKind.SUMMARY: "Summary",
    AssistKind.DRAFT: "Draft reply",
    AssistKind.SEARCH: "Search",
}

MUTED = "#6B7280"
GOOD = "#15803D"
BAD = "#B91C1C"
UNKNOWN = "#6B7280"
DIFF_BG = "#FEF3C7"
LINK = "#4F46E5"

# rows shown before "Show more", per kind
COLLAPSED = {"attributes": 6, "candidates": 3, "items": 5, "hits": 5, "points": 5, "rows": 8, "text": 600}

VERDICT_MARKS = {
    "meets": ("✓", GOOD, "meets"),
    "fails": ("✗", BAD, "fails"),
    "unknown": ("?", UNKNOWN, "unknown"),
}


def _m(text: str) -> str:
    return f'<span style="color:{MUTED};">{escape(text)}</span>'


def _sku(sku: str, *, link: str | None = None) -> str:
    inner = f'<span style="font-family:monospace; font-weight:600;">{escape(sku)}</span>'
    if link:
        return f'<a href="{escape(link)}" style="color:{LINK}; text-decoration:none;">{inner}</a>'
    return inner


def _lifecycle(status: str | None, superseded_by: str | None = None) -> str:
    if not status or status == "active":
        return ""
    text = status if not superseded_by else f"{status} → {superseded_by}"
    return f' <span style="color:{BAD}; font-size:small;">{escape(text)}</span>'


def _more(shown: int, total: int, what: str) -> str:
    return f"<br>{_m(f'… {total - shown} more {what}')}" if total > shown else ""


# --- bodies per kind: (html, truncated?) -------------------------------------------------------


def spec_html(data: dict[str, Any], full: bool) -> tuple[str, bool]:
    parts: list[str] = []
    truncated = False
    sheets = data.get("sheets") or []
    for sheet in sheets:
        product = sheet.get("product") or {}
        sku = product.get("sku", "?")
        head = f"{_sku(sku)} {escape(product.get('name', ''))}"
        head += _lifecycle(product.get("status"), sheet.get("superseded_by") or product.get("superseded_by"))
        lines = [head]
        attrs = sheet.get("attributes") or []
        limit = len(attrs) if full else COLLAPSED["attributes"]
        for a in attrs[:limit]:
            value = escape(str(a.get("value", "")))
            unit = a.get("unit") or ""
            if unit and not value.endswith(unit):
                value += f" {escape(unit)}"
            flag = ""
            if a.get("conflict"):
                flag = f' <span style="color:{BAD};" title="sources disagree">⚠ sources disagree</span>'
            elif a.get("marketing_only"):
                flag = " " + _m("(marketing only)")
            lines.append(f"{_m(a.get('label') or a.get('name', ''))}&nbsp; <b>{value}</b>{flag}")
        if len(attrs) > limit:
            truncated = True
            lines.append(_m(f"… {len(attrs) - limit} more attributes"))
        for c in sheet.get("conflicts") or []:
            if full or len(sheets) == 1:
                lines.append(f'<span style="color:{BAD};">⚠ {escape(c.get("note", ""))}</span>')
        if sheet.get("evidence") == "marketing_only":
            lines.append(f'<span style="color:{BAD};">Only marketing copy: no technical source.</span>')
        elif sheet.get("evidence") == "none":
            lines.append(f'<span style="color:{BAD};">No documents on file.</span>')
        parts.append("<br>".join(lines))
    if not sheets:
        return _m("No spec sheet came back."), False
    return "<br><br>".join(parts), truncated


def verdict_line(v: dict[str, Any]) -> str:
    mark, color, word = VERDICT_MARKS.get(str(v.get("verdict")), ("?", UNKNOWN, "unknown"))
    text = escape(v.get("constraint") or v.get("attribute") or "")
    actual = v.get("actual")
    detail = f" — {escape(str(actual))}" if actual else (" — not stated" if word == "unknown" else "")
    implicit = " " + _m("(from the original)") if v.get("implicit") else ""
    return (
        f'<span style="color:{color}; font-weight:700;" title="{word}">{mark}</span> '
        f'<span style="color:{color};">{text}</span>{_m(detail) if detail else ""}{implicit}'
    )


def subs_html(data: dict[str, Any], full: bool) -> tuple[str, bool]:
    cands = data.get("candidates") or []
    constraints = data.get("constraints") or []
    lines = [
        f"For {_sku(str(data.get('sku', '')))}" + (_m(" · " + ", ".join(constraints)) if constraints else "")
    ]
    if not cands:
        lines.append(_m("No substitutes found in the catalog."))
        return "<br>".join(lines), False
    limit = len(cands) if full else COLLAPSED["candidates"]
    for c in cands[:limit]:
        p = c.get("product") or {}
        verdicts = c.get("verdicts") or []
        counts = {k: sum(1 for v in verdicts if v.get("verdict") == k) for k in ("meets", "fails", "unknown")}
        tally = " ".join(
            f'<span style="color:{VERDICT_MARKS[k][1]};">{VERDICT_MARKS[k][0]}{n}</span>'
            for k, n in counts.items()
            if n
        )
        head = (
            f"<b>{c.get('rank', '')}.</b> {_sku(p.get('sku', '?'), link='assist:spec:' + p.get('sku', ''))}"
        )
        head += f" {escape(p.get('name', ''))}{_lifecycle(p.get('status'), p.get('superseded_by'))}"
        if c.get("via_supersession"):
            head += " " + _m("(named successor)")
        if tally:
            head += f"&nbsp;&nbsp;{tally}"
        block = [head]
        block += [f"&nbsp;&nbsp;&nbsp;{verdict_line(v)}" for v in verdicts]
        note = c.get("confidence_note") or c.get("why")
        if note:
            block.append("&nbsp;&nbsp;&nbsp;" + _m(note))
        lines.append("<br>".join(block))
    more = _more(limit, len(cands), "candidates")
    return "<br>".join(lines[:1]) + "<br>" + "<br>".join(lines[1:]) + more, len(cands) > limit


def acc_html(data: dict[str, Any], full: bool) -> tuple[str, bool]:
    items = data.get("items") or []
    if not items:
        return _m("No accessories or complements on file."), False
    limit = len(items) if full else COLLAPSED["items"]
    labels = {"accessory_of": "accessory", "compatible_with": "compatible", "family_rule": "family rule"}
    rows = []
    for it in items[:limit]:
        p = it.get("product") or {}
        line = (
            f"{_sku(p.get('sku', '?'), link='assist:spec:' + p.get('sku', ''))} {escape(p.get('name', ''))}"
        )
        line += _lifecycle(p.get("status"), p.get("superseded_by"))
        meta = [labels.get(str(it.get("relation")), str(it.get("relation") or ""))]
        if it.get("note"):
            meta.append(str(it["note"]))
        rows.append(line + " " + _m("· " + " · ".join(m for m in meta if m)))
    return "<br>".join(rows) + _more(limit, len(items), "items"), len(items) > limit


def search_html(data: dict[str, Any], full: bool) -> tuple[str, bool]:
    hits = data.get("hits") or []
    if not hits:
        return _m("Nothing in the catalog matches."), False
    limit = len(hits) if full else COLLAPSED["hits"]
    rows = []
    for h in hits[:limit]:
        line = (
            f"{_sku(h.get('sku', '?'), link='assist:spec:' + h.get('sku', ''))} {escape(h.get('name', ''))}"
        )
        line += _lifecycle(h.get("status")) + " " + _m("· " + str(h.get("family", "")))
        if h.get("snippet"):
            line += "<br>&nbsp;&nbsp;" + _m(str(h["snippet"])[:160])
        rows.append(line)
    return "<br>".join(rows) + _more(limit, len(hits), "hits"), len(hits) > limit


def summary_html(data: dict[str, Any], full: bool) -> tuple[str, bool]:
    doc = data.get("document") or {}
    head = f"<b>{escape(doc.get('title', ''))}</b>"
    if doc.get("kind"):
        head += " " + _m("· " + str(doc["kind"]))
    points = data.get("points") or []
    limit = len(points) if full else COLLAPSED["points"]
    rows = [head] + [f"&#8226; {escape(p)}" for p in points[:limit]]
    return "<br>".join(rows) + _more(limit, len(points), "points"), len(points) > limit


def text_html(text: str, full: bool) -> tuple[str, bool]:
    limit = len(text) if full else COLLAPSED["text"]
    body = escape(text[:limit]).replace("\n", "<br>")
    if len(text) > limit:
        body += "…"
    return body, len(text) > limit


def draft_html(data: dict[str, Any], text: str, full: bool) -> tuple[str, bool]:
    body, truncated = text_html(text, full)
    grounded = data.get("grounded")
    if grounded is False:
        note = f'<span style="color:{BAD};">Not grounded in the catalog: check before sending.</span>'
    else:
        note = _m("Grounded in the packet and the catalog")
    if data.get("phrased_by"):
        note += _m(f" · phrased by {data['phrased_by']}")
    return f"{note}<br>{body}", truncated


def compare_rows(data: dict[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
    return list(data.get("skus") or []), list(data.get("rows") or [])


def compare_html(data: dict[str, Any], full: bool) -> tuple[str, bool]:
    """A comparison that reads in a narrow panel: one block per differing attribute, each SKU's
    value highlighted and wrapping as needed; the attributes that agree on one muted line."""
    skus, rows = compare_rows(data)
    if not rows:
        return _m("Nothing to compare came back."), False
    differ = [r for r in rows if r.get("differs")]
    same = [r for r in rows if not r.get("differs")]
    limit = len(differ) if full else COLLAPSED["rows"]
    parts = [_m(f"{len(differ)} of {len(rows)} attributes differ")]
    for r in differ[:limit]:
        label = escape(str(r.get("label") or r.get("attribute") or ""))
        values = r.get("values") or []
        cells = []
        for i, sku in enumerate(skus):
            v = values[i] if i < len(values) else None
            shown = (
                f'<span style="color:{UNKNOWN};" title="no source states it">—</span>'
                if v is None
                else f'<span style="background:{DIFF_BG}; font-weight:700;">{escape(str(v))}</span>'
            )
            cells.append(f"{_sku(sku)}&nbsp;{shown}")
        parts.append(f"<b>{label}</b><br>&nbsp;&nbsp;" + " &nbsp;·&nbsp; ".join(cells))
    if len(differ) > limit:
        parts.append(_m(f"… {len(differ) - limit} more that differ"))
    if same:
        agreed = ", ".join(
            f"{str(r.get('label') or r.get('attribute') or '').lower()} {(r.get('values') or [''])[0]}"
            for r in same
        )
        parts.append(_m(f"Same on all: {agreed}"))
    return "<br>".join(parts), len(differ) > limit


BODY: dict[AssistKind, Callable[[dict[str, Any], bool], tuple[str, bool]]] = {
    AssistKind.SPEC: spec_html,
    AssistKind.SUBSTITUTES: subs_html,
    AssistKind.ACCESSORIES: acc_html,
    AssistKind.SEARCH: search_html,
    AssistKind.SUMMARY: summary_html,
    AssistKind.COMPARE: compare_html,
}


def status_text(entry: AssistEntry) -> str:
    """'Queued', 'Running 40% · reading datasheets', 'Done in 0.4 s', 'Failed', 'Cancelled'."""
    s = entry.status
    if s == SUBMITTING:
        if entry.cancel_requested:
            return "Cancelling…"
        return "Waiting for the hub… (sent when it is back)" if entry.waiting_for_hub else "Sending…"
    if s == REFUSED:
        return "Refused"
    job = entry.job
    assert job is not None
    if job.status is AssistStatus.QUEUED:
        return "Cancelling…" if entry.cancel_requested else "Queued"
    if job.status is AssistStatus.RUNNING:
        pct = f" {round(job.progress * 100)}%" if job.progress else ""
        stage = f" · {job.stage}" if job.stage else ""
        return ("Cancelling…" if entry.cancel_requested else f"Running{pct}") + stage
    if job.status is AssistStatus.DONE:
        took = ""
        if job.finished_at is not None:
            secs = max(0.0, (job.finished_at - job.created_at).total_seconds())
            took = f" in {secs:.1f} s" if secs < 60 else f" in {secs / 60:.0f} min"
            if secs < 0.05:
                took = " in under 0.1 s"
        return f"Done{took}"
    if job.status is AssistStatus.FAILED:
        return "Failed"
    return "Cancelled"
