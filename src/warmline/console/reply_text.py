"""What "Insert into reply" puts in the composer: text written for the buyer, not the analysis.

A lookup's own ``text`` is written for the specialist (confidence notes, check tallies, every
attribute with its source). The buyer needs the answer: the SKUs, the few facts that answer
the question, and links to the documents. This builds that from the result's ``data``
(plain dicts, tolerant of missing keys); a draft reply is already written for the buyer and
goes in as it is.
"""

from __future__ import annotations

from typing import Any

from warmline.domain.assist import AssistKind, AssistResult

KEY_FACTS = 4  # attributes per product
MAX_PRODUCTS = 3
MAX_ITEMS = 4


def _value(a: dict[str, Any]) -> str:
    value = str(a.get("value", "")).strip()
    unit = str(a.get("unit") or "")
    if unit and not value.endswith(unit):
        value += f" {unit}"
    return value


def _facts(attrs: list[dict[str, Any]], limit: int = KEY_FACTS) -> str:
    """'rated torque 220 N·m, IP rating IP65': trusted attributes only (no conflicts, no marketing)."""
    picked = [a for a in attrs if not a.get("conflict") and not a.get("marketing_only") and a.get("value")]
    named = [(str(a.get("label") or a.get("name", "")).lower(), _value(a)) for a in picked[:limit]]
    return ", ".join(f"{label} {value}" for label, value in named)


def _named(p: dict[str, Any]) -> str:
    sku, name = str(p.get("sku", "")), str(p.get("name", "")).strip()
    return f"{sku} ({name})" if name else sku


def _lifecycle(p: dict[str, Any], successor: str | None) -> str:
    status = str(p.get("status") or "active")
    if status == "active":
        return ""
    tail = f"; its successor is {successor}." if successor else "."
    return f" Please note {p.get('sku')} is {status}{tail}"


def documents_line(result: AssistResult, skus: set[str] | None = None) -> str:
    """'Documents: GX-220 datasheet (https://…)': titles, with links where the catalog has one."""
    docs: list[str] = []
    for c in result.citations:
        if skus is not None and c.sku and c.sku not in skus:
            continue
        ref = (c.ref or "").strip()
        entry = f"{c.title} ({ref})" if ref.startswith(("http://", "https://")) else c.title
        if entry not in docs:
            docs.append(entry)
    if not docs:
        return ""
    return ("Document: " if len(docs) == 1 else "Documents: ") + "; ".join(docs[:MAX_ITEMS])


def _spec(data: dict[str, Any]) -> list[str]:
    lines = []
    for sheet in (data.get("sheets") or [])[:MAX_PRODUCTS]:
        p = sheet.get("product") or {}
        facts = _facts(sheet.get("attributes") or [])
        line = f"{_named(p)}: {facts}." if facts else f"{_named(p)}: I will confirm its data for you."
        successor = sheet.get("superseded_by") or p.get("superseded_by")
        lines.append(line + _lifecycle(p, successor))
    return lines


def _subs(data: dict[str, Any]) -> list[str]:
    cands = data.get("candidates") or []
    fitting = [c for c in cands if not any(v.get("verdict") == "fails" for v in c.get("verdicts") or [])]
    original = str(data.get("sku", ""))
    if not fitting:
        return [f"I could not confirm a direct replacement for {original} yet; I am checking it for you."]
    lines = [f"Replacements for {original}:" if len(fitting) > 1 else f"A replacement for {original}:"]
    for c in fitting[:MAX_PRODUCTS]:
        p = c.get("product") or {}
        met = [_fact(v) for v in c.get("verdicts") or [] if v.get("verdict") == "meets" and v.get("actual")]
        unknown = [
            str(v.get("constraint") or v.get("attribute"))
            for v in c.get("verdicts") or []
            if v.get("verdict") == "unknown"
        ]
        line = f"- {_named(p)}"
        if met:
            line += " — " + ", ".join(met[:KEY_FACTS])
        if unknown:
            line += f" (I will confirm {', '.join(unknown[:2])})"
        lines.append(line)
    return lines


def _fact(verdict: dict[str, Any]) -> str:
    """'torque 250 N·m' from a met check ('IP66' alone when the value names itself)."""
    actual = str(verdict.get("actual"))
    name = str(verdict.get("attribute") or "").replace("_", " ")
    return actual if not name or name.casefold() in actual.casefold() else f"{name} {actual}"


def _acc(data: dict[str, Any]) -> list[str]:
    items = data.get("items") or []
    if not items:
        return []
    lines = [f"Accessories for {data.get('sku', '')}:"]
    lines += [f"- {_named(it.get('product') or {})}" for it in items[:MAX_ITEMS]]
    return lines


def _compare(data: dict[str, Any]) -> list[str]:
    skus = [str(s) for s in data.get("skus") or []]
    rows = [r for r in data.get("rows") or [] if r.get("differs")]
    if not skus:
        return []
    lines = [f"{' vs '.join(skus)}:"]
    for r in rows[: KEY_FACTS + 1]:
        values = [("not stated" if v is None else str(v)) for v in r.get("values") or []]
        lines.append(f"- {str(r.get('label') or r.get('attribute') or '').lower()}: {' / '.join(values)}")
    if len(lines) == 1:
        lines.append("- the same on every attribute we have on file")
    return lines


def _summary(data: dict[str, Any]) -> list[str]:
    doc = data.get("document") or {}
    points = [str(p) for p in data.get("points") or []][:MAX_ITEMS]
    if not points:
        return []
    return [f"From the {doc.get('title', 'document')}:", *(f"- {p}" for p in points)]


def _search(data: dict[str, Any]) -> list[str]:
    hits = data.get("hits") or []
    return [f"- {_named(h)}" for h in hits[: MAX_ITEMS + 1]]


_BUILDERS = {
    AssistKind.SPEC: _spec,
    AssistKind.SUBSTITUTES: _subs,
    AssistKind.ACCESSORIES: _acc,
    AssistKind.COMPARE: _compare,
    AssistKind.SUMMARY: _summary,
    AssistKind.SEARCH: _search,
}


def buyer_text(kind: AssistKind, result: AssistResult | None) -> str:
    """The reply text for a finished lookup ('' when there is nothing to say to the buyer)."""
    if result is None:
        return ""
    if kind is AssistKind.DRAFT:
        return result.text.strip()
    build = _BUILDERS.get(kind)
    lines = build(result.data or {}) if build is not None else []
    if not lines:
        return ""
    text = "\n".join(lines)
    docs = documents_line(result, {c.sku for c in result.citations if c.sku and c.sku in text})
    return "\n".join([*lines, docs] if docs else lines)
