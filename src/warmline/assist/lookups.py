"""The background assistant's lookups: spec sheets, substitutes, accessories, comparison,
document summaries, reply drafts and search, each turned into an ``AssistResult``.

Pure with respect to the hub: it takes a ``CatalogService`` and the handoff's packet and
returns a result (title, plain text fit for a reply, citations, typed data). It never
imports ``warmline.hub``; the hub runs these functions as background jobs.

Everything here is deterministic over catalog facts, except that a reply draft may be
reworded by the optional language model (``warmline.escalation.llm``): the citations and
the facts are the template's either way, and any model failure falls back to the template.
"""

from __future__ import annotations

import asyncio
import difflib
import logging
import re
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from warmline.catalog import tables as ct
from warmline.catalog.models import DocKind, DocumentInfo, Lifecycle, SpecAttribute, SpecSheet
from warmline.catalog.service import CatalogService, ProductNotFound, parse_search_query
from warmline.catalog.units import (
    ATTRIBUTES,
    PRODUCT_FIELDS,
    Constraint,
    ConstraintError,
    QuantityError,
    compare,
    constraint_from_packet,
    parse_constraint,
    parse_quantity,
)
from warmline.domain.assist import AssistKind, AssistRequest, AssistResult, Citation, CompareRow
from warmline.domain.packet import HandoffPacket
from warmline.escalation.llm import ChatPhraser

log = logging.getLogger(__name__)

Progress = Callable[[float, str], Awaitable[None]]

MAX_SUBSTITUTES = 5
MAX_ACCESSORIES = 12
MAX_SEARCH_HITS = 10
MAX_SUMMARY_POINTS = 6
MAX_DRAFT_SKUS = 4
KEY_ATTRIBUTES_IN_DRAFT = 6


class AssistError(Exception):
    """A lookup that cannot be done, said in one sentence for the specialist."""


async def _no_progress(_fraction: float, _stage: str) -> None:
    return None


# --- entry point -----------------------------------------------------------------------


async def run_assist(
    catalog: CatalogService,
    request: AssistRequest,
    packet: HandoffPacket | None = None,
    *,
    phraser: ChatPhraser | None = None,
    llm_timeout: float = 20.0,
    progress: Progress | None = None,
) -> AssistResult:
    """Do one lookup; raises ``AssistError`` (unknown SKU, no such document...) with a clear sentence."""
    packet = packet or _empty_packet()
    report = progress or _no_progress
    try:
        match request.kind:
            case AssistKind.SPEC:
                return await spec(catalog, request.skus, progress=report)
            case AssistKind.SUBSTITUTES:
                return await substitutes(catalog, request.skus[0], request.constraints, packet)
            case AssistKind.ACCESSORIES:
                return await accessories(catalog, request.skus[0])
            case AssistKind.COMPARE:
                return await compare_skus(catalog, request.skus, progress=report)
            case AssistKind.SUMMARY:
                return await summary(catalog, request.document or "", request.skus, packet)
            case AssistKind.DRAFT:
                return await draft(
                    catalog,
                    packet,
                    skus=request.skus,
                    instructions=request.instructions or "",
                    phraser=phraser,
                    llm_timeout=llm_timeout,
                    progress=report,
                )
            case AssistKind.SEARCH:
                return await search(catalog, request.query or "")
    except ProductNotFound as exc:
        hint = f"; closest: {', '.join(exc.closest)}" if exc.closest else ""
        raise AssistError(f"no product {exc.sku!r} in the catalog{hint}") from exc
    raise AssistError(f"unknown kind {request.kind!r}")  # pragma: no cover - the enum is exhaustive


def _empty_packet() -> HandoffPacket:
    return HandoffPacket(reason="low_confidence", summary="(no packet)")


# --- citations -------------------------------------------------------------------------


class _Cites:
    """Citations in first-use order, without repeats."""

    def __init__(self) -> None:
        self.items: list[Citation] = []
        self._seen: set[tuple[str | None, str]] = set()

    def add(self, sku: str | None, title: str, kind: str = "", ref: str = "") -> None:
        key = (sku, title)
        if title and key not in self._seen:
            self._seen.add(key)
            self.items.append(Citation(sku=sku, title=title, kind=kind, ref=ref))

    def from_sheet(self, sheet: SpecSheet, attrs: Iterable[SpecAttribute] | None = None) -> None:
        """The documents the shown values came from (all technical documents when attrs is None)."""
        refs = {d.title: d for d in sheet.documents}
        if attrs is None:
            for d in sheet.documents:
                if d.kind.technical:
                    self.add(sheet.product.sku, d.title, d.kind.value, d.ref)
            return
        for a in attrs:
            doc = refs.get(a.source.document_title)
            self.add(
                sheet.product.sku,
                a.source.document_title,
                a.source.document_kind.value,
                doc.ref if doc else a.source.ref,
            )


def with_sources(text: str, citations: Sequence[Citation]) -> str:
    """``text`` followed by a "Sources:" list (how a result is recorded as an internal note)."""
    if not citations:
        return f"{text}\n\nSources: none (no catalog document backs this)."
    lines = [text, "", "Sources:"]
    for c in citations:
        kind = f" ({c.kind})" if c.kind else ""
        ref = f" [{c.ref}]" if c.ref else ""
        lines.append(f"- {c.title}{kind}{ref}")
    return "\n".join(lines)


# --- spec sheets -----------------------------------------------------------------------


def _product_line(sheet: SpecSheet) -> str:
    p = sheet.product
    status = p.status.value
    line = f"{p.sku} — {p.name} ({p.family.replace('_', ' ')}, {status})"
    if sheet.supersession_chain:
        line += f"; replaced by {' -> '.join(sheet.supersession_chain)}"
    return line


def _attr_line(a: SpecAttribute) -> str:
    flags = []
    if a.conflict:
        flags.append("sources disagree")
    if a.marketing_only:
        flags.append("marketing copy only, not verified")
    flag = f" ⚠ {'; '.join(flags)}" if flags else ""
    return f"{a.label}: {a.value} (source: {a.source.document_title}){flag}"


def spec_text(sheet: SpecSheet) -> str:
    lines = [_product_line(sheet)]
    if not sheet.attributes:
        lines.append("  No attributes are stated in the catalog.")
    for a in sheet.attributes:
        lines.append(f"  {_attr_line(a)}")
    for c in sheet.conflicts:
        lines.append(f"  Conflict: {c.note}")
    if sheet.evidence == "marketing_only":
        lines.append(
            "  Evidence: marketing copy only; no datasheet, manual or certificate backs these values."
        )
    elif sheet.evidence == "none":
        lines.append("  Evidence: no documents in the catalog.")
    return "\n".join(lines)


async def spec(
    catalog: CatalogService, skus: Sequence[str], *, progress: Progress = _no_progress
) -> AssistResult:
    sheets: list[SpecSheet] = []
    cites = _Cites()
    for i, sku in enumerate(skus):
        await progress(i / len(skus), f"spec sheet {i + 1}/{len(skus)}: {sku}")
        sheet = await catalog.spec_sheet(sku)
        sheets.append(sheet)
        cites.from_sheet(sheet, sheet.attributes)
        for c in sheet.conflicts:
            for v in c.values:
                cites.add(sheet.product.sku, v.document_title, v.document_kind.value, v.ref)
    names = ", ".join(s.product.sku for s in sheets)
    return AssistResult(
        title=f"Spec sheet{'s' if len(sheets) > 1 else ''}: {names}",
        text="\n\n".join(spec_text(s) for s in sheets),
        citations=cites.items,
        data={"sheets": [s.model_dump(mode="json") for s in sheets]},
    )


# --- substitutes -----------------------------------------------------------------------


def packet_constraints(packet: HandoffPacket) -> tuple[list[Constraint], list[str]]:
    """The packet's constraints the catalog can check, and a note for each it cannot read."""
    parsed: list[Constraint] = []
    skipped: list[str] = []
    for c in packet.constraints:
        shown = f"{c.name} {c.value}{(' ' + c.unit) if c.unit else ''}".strip()
        try:
            parsed_c = constraint_from_packet(c)
        except (ConstraintError, QuantityError, ValueError) as exc:
            reason = getattr(exc, "reason", None) or str(exc)
            skipped.append(f"{shown} ({reason})")
            continue
        if parsed_c.attribute not in ATTRIBUTES and parsed_c.attribute not in PRODUCT_FIELDS:
            skipped.append(f"{shown} (the catalog has no attribute {parsed_c.attribute!r})")
            continue
        parsed.append(parsed_c)
    return parsed, skipped


def parse_constraints(texts: Sequence[str]) -> list[Constraint]:
    """Typed constraints ("torque>=180Nm"); raises ``ConstraintError`` naming the bad one."""
    return [parse_constraint(t) for t in texts]


async def substitutes(
    catalog: CatalogService,
    sku: str,
    constraints: Sequence[str] | None,
    packet: HandoffPacket,
) -> AssistResult:
    skipped: list[str] = []
    if constraints is not None:
        wanted = parse_constraints(constraints)
        origin = "as asked"
    else:
        wanted, skipped = packet_constraints(packet)
        origin = "from the handoff packet"
    original = await catalog.get_product(sku)
    if original is None:
        raise ProductNotFound(sku, await catalog.closest_skus(sku))
    candidates = await catalog.substitutes(original.sku, wanted, limit=MAX_SUBSTITUTES)
    cites = _Cites()
    described = [c.describe() for c in wanted]
    lines = [f"Substitutes for {original.sku} — {original.name} ({original.status.value})"]
    if original.superseded_by:
        lines[0] += f", superseded by {original.superseded_by}"
    if described:
        lines.append(f"Checked against ({origin}): {', '.join(described)}")
    else:
        lines.append(f"No constraints {origin}; like-for-like checks only.")
    if skipped:
        lines.append(f"Not checked (could not read): {'; '.join(skipped)}")
    if not candidates:
        lines.append("No active substitute found in the catalog.")
    docs = await _document_refs(catalog, [c.product.sku for c in candidates])
    for cand in candidates:
        asked = [v for v in cand.verdicts if not v.implicit]
        head = f"{cand.rank}. {cand.product.sku} — {cand.product.name}"
        if cand.via_supersession:
            head += " (successor)"
        lines.append(head)
        for v in asked:
            actual = f" ({v.actual}, {v.source})" if v.actual else ""
            lines.append(f"   {v.constraint}: {v.verdict.value}{actual}")
        lines.append(f"   {cand.why}")
        if cand.confidence_note:
            lines.append(f"   Confidence: {cand.confidence_note}")
        for v in cand.verdicts:
            if v.source and v.actual is not None:
                _cite_source(cites, cand.product.sku, v.source, docs.get(cand.product.sku, []))
    return AssistResult(
        title=f"Substitutes for {original.sku}",
        text="\n".join(lines),
        citations=cites.items,
        data={
            "sku": original.sku,
            "constraints": described,
            "constraints_from": "request" if constraints is not None else "packet",
            "skipped_constraints": skipped,
            "candidates": [c.model_dump(mode="json") for c in candidates],
        },
    )


async def _document_refs(
    catalog: CatalogService, skus: Sequence[str]
) -> dict[str, list[tuple[str, str, str]]]:
    """(title, kind, ref) of every document of these SKUs, longest title first."""
    out: dict[str, list[tuple[str, str, str]]] = {}
    if not skus:
        return out
    p, d = ct.products, ct.documents
    async with catalog.engine.connect() as conn:
        rows = await conn.execute(
            select(p.c.sku, d.c.title, d.c.kind, d.c.ref, d.c.origin)
            .join(p, p.c.id == d.c.product_id)
            .where(p.c.sku.in_(list(dict.fromkeys(skus))))
        )
        for r in rows:
            out.setdefault(r.sku, []).append((r.title, r.kind, r.ref or r.origin or ""))
    for docs in out.values():
        docs.sort(key=lambda t: -len(t[0]))
    return out


def _cite_source(cites: _Cites, sku: str, source: str, docs: Sequence[tuple[str, str, str]]) -> None:
    """Cite the document a verdict's ``source`` ("<title> (<kind>)[; ...]") names."""
    for title, kind, ref in docs:
        if source.startswith(f"{title} ("):
            cites.add(sku, title, kind, ref)
            return
    m = re.match(r"^(.*?) \((\w+)\)", source)
    if m:
        cites.add(sku, m.group(1), m.group(2))


# --- accessories -----------------------------------------------------------------------


async def accessories(catalog: CatalogService, sku: str) -> AssistResult:
    sheet = await catalog.spec_sheet(sku)
    items = await catalog.accessories(sheet.product.sku)
    shown = items[:MAX_ACCESSORIES]
    cites = _Cites()
    lines = [f"Accessories and complements for {sheet.product.sku} — {sheet.product.name}"]
    if not items:
        lines.append("The catalog lists no accessories, compatible parts or complements for it.")
    for item in shown:
        p = item.product
        lines.append(f"- {p.sku} — {p.name} ({p.family.replace('_', ' ')}): {item.note}")
    if len(items) > len(shown):
        lines.append(f"... and {len(items) - len(shown)} more")
    if any(i.relation == "family_rule" for i in shown):
        cites.from_sheet(sheet, None)  # complements are matched on the original's stated values
    if any(i.relation != "family_rule" for i in shown):
        cites.add(sheet.product.sku, f"catalog relations of {sheet.product.sku}", "catalog")
    return AssistResult(
        title=f"Accessories for {sheet.product.sku}",
        text="\n".join(lines),
        citations=cites.items,
        data={"sku": sheet.product.sku, "items": [i.model_dump(mode="json") for i in items]},
    )


# --- comparison ------------------------------------------------------------------------


def _norm(a: SpecAttribute | None) -> Any:
    """A comparable form of a value: SI numbers when known (rounded), else lowercased text."""
    if a is None:
        return None
    if a.value_si is not None:
        hi = a.value_si_max if a.value_si_max is not None else a.value_si
        return (round(a.value_si, 6), round(hi, 6))
    return re.sub(r"\s+", " ", a.value.strip().lower())


def compare_rows(sheets: Sequence[SpecSheet]) -> list[CompareRow]:
    """One row per attribute any of the SKUs states, in spec-sheet order.

    ``differs`` compares normalised values (SI numbers, else case-folded text); a value
    that one SKU states and another does not also counts as a difference.
    """
    order: list[str] = []
    labels: dict[str, str] = {}
    per: list[dict[str, SpecAttribute]] = []
    for s in sheets:
        attrs = {a.name: a for a in s.attributes}
        per.append(attrs)
        for a in s.attributes:
            if a.name not in labels:
                order.append(a.name)
                labels[a.name] = a.label
    rows = []
    for name in order:
        cells = [attrs.get(name) for attrs in per]
        values = [c.value if c is not None else None for c in cells]
        normalised = {_norm(c) for c in cells}
        rows.append(
            CompareRow(attribute=name, label=labels[name], values=values, differs=len(normalised) > 1)
        )
    return rows


async def compare_skus(
    catalog: CatalogService, skus: Sequence[str], *, progress: Progress = _no_progress
) -> AssistResult:
    sheets = []
    for i, sku in enumerate(skus):
        await progress(i / len(skus), f"spec sheet {i + 1}/{len(skus)}: {sku}")
        sheets.append(await catalog.spec_sheet(sku))
    rows = compare_rows(sheets)
    names = [s.product.sku for s in sheets]
    cites = _Cites()
    for s in sheets:
        cites.from_sheet(s, s.attributes)
    lines = [f"Comparison: {' vs '.join(names)}"]
    for s in sheets:
        lines.append(f"  {_product_line(s)}")
    differing = [r for r in rows if r.differs]
    same = [r for r in rows if not r.differs]
    if differing:
        lines.append("Differences:")
        for r in differing:
            cells = ", ".join(
                f"{sku} {v if v is not None else 'not stated'}"
                for sku, v in zip(names, r.values, strict=True)
            )
            lines.append(f"  {r.label}: {cells}")
    if same:
        lines.append("Same on all: " + "; ".join(f"{r.label} {r.values[0]}" for r in same))
    for s in sheets:
        for c in s.conflicts:
            lines.append(f"  Conflict ({s.product.sku}): {c.note}")
        if s.evidence != "technical":
            lines.append(f"  {s.product.sku}: values from marketing copy only, not verified.")
    return AssistResult(
        title=f"Compare {', '.join(names)}",
        text="\n".join(lines),
        citations=cites.items,
        data={"skus": names, "rows": [r.model_dump(mode="json") for r in rows]},
    )


# --- document summary ------------------------------------------------------------------


@dataclass
class FoundDocument:
    sku: str
    info: DocumentInfo
    body: str


_KEYWORDS = (
    "rated",
    "maximum",
    "minimum",
    "max",
    "min",
    "must",
    "only",
    "never",
    "do not",
    "warning",
    "caution",
    "check",
    "certified",
    "atex",
    "ip",
    "nema",
    "torque",
    "voltage",
    "pressure",
    "temperature",
    "replace",
    "lubric",
    "install",
    "washdown",
)
_NUMBER_UNIT = re.compile(
    r"\d+(?:[.,]\d+)?\s*(?:%|°\s?C|°\s?F|N·m|Nm|kW|W|V|A|mm|m|bar|psi|kg|g|h|r/min|rpm|min|s|l/min|Hz)?(?![\w])",
)


def _sentences(body: str) -> list[str]:
    """Bullets and sentences of a document, headings and front matter left out."""
    text = re.sub(r"^---\n.*?\n---\n", "", body, flags=re.S)
    out: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        line = re.sub(r"^[-*•]\s*", "", line)
        for part in re.split(r"(?<=[.!?])\s+(?=[A-Z0-9])", line):
            part = part.strip()
            if len(part) >= 3:
                out.append(part)
    return out


def key_points(body: str, limit: int = MAX_SUMMARY_POINTS) -> list[str]:
    """Extractive summary: sentences with numbers and units first, then keywords; original order kept."""
    sentences = list(dict.fromkeys(_sentences(body)))
    scored = []
    for i, s in enumerate(sentences):
        low = s.lower()
        numbers = len(_NUMBER_UNIT.findall(s))
        keywords = sum(1 for k in _KEYWORDS if re.search(rf"\b{re.escape(k)}", low))
        score = 3 * min(numbers, 2) + keywords
        scored.append((score, i, s))
    picked = sorted(scored, key=lambda t: (-t[0], t[1]))[:limit]
    return [s for _score, _i, s in sorted(picked, key=lambda t: t[1])]


async def _documents_of(catalog: CatalogService, skus: Sequence[str]) -> list[FoundDocument]:
    p, d = ct.products, ct.documents
    if not skus:
        return []
    async with catalog.engine.connect() as conn:
        rows = (
            await conn.execute(
                select(p.c.sku, d.c.title, d.c.kind, d.c.ref, d.c.origin, d.c.body)
                .join(p, p.c.id == d.c.product_id)
                .where(p.c.sku.in_(list(skus)))
                .order_by(d.c.id)
            )
        ).all()
    order = {s: i for i, s in enumerate(skus)}
    found = [
        FoundDocument(
            r.sku,
            DocumentInfo(title=r.title, kind=DocKind(r.kind), ref=r.ref or r.origin, excerpt=""),
            r.body or "",
        )
        for r in rows
    ]
    return sorted(found, key=lambda f: order.get(f.sku, 99))


def _pick_document(wanted: str, docs: Sequence[FoundDocument]) -> FoundDocument | None:
    w = wanted.strip().casefold()
    for test in (
        lambda f: f.info.title.casefold() == w or (f.info.ref and f.info.ref.casefold() == w),
        lambda f: w in f.info.title.casefold(),
        lambda f: all(word in f.info.title.casefold() for word in w.split()),
    ):
        hits = [f for f in docs if test(f)]
        if hits:
            return hits[0]
    titles = {f.info.title.casefold(): f for f in docs}
    close = difflib.get_close_matches(w, list(titles), n=1, cutoff=0.6)
    return titles[close[0]] if close else None


async def find_document(
    catalog: CatalogService, document: str, skus: Sequence[str], packet: HandoffPacket
) -> FoundDocument:
    """The document named by title or ref among the given SKUs' and the packet's SKUs' documents."""
    candidates = list(dict.fromkeys([*skus, *[p.sku for p in packet.products]]))
    resolved = []
    for s in candidates:
        product = await catalog.get_product(s)
        if product is not None:
            resolved.append(product.sku)
        elif s in skus:
            raise ProductNotFound(s, await catalog.closest_skus(s))
    docs = await _documents_of(catalog, resolved)
    found = _pick_document(document, docs)
    if found is None:
        where = ", ".join(resolved) if resolved else "the handoff (it names no SKU)"
        known = "; ".join(f.info.title for f in docs[:8])
        raise AssistError(
            f"no document matching {document!r} for {where}" + (f"; documents: {known}" if known else "")
        )
    return found


async def summary(
    catalog: CatalogService, document: str, skus: Sequence[str], packet: HandoffPacket
) -> AssistResult:
    found = await find_document(catalog, document, skus, packet)
    points = key_points(found.body)
    info = found.info.model_copy(update={"excerpt": " ".join(points[:2])[:300]})
    kind_note = (
        " This is marketing copy, not technical evidence." if found.info.kind is DocKind.MARKETING else ""
    )
    lines = [f"{found.info.title} ({found.info.kind.value}, {found.sku}) — key points:{kind_note}"]
    lines += [f"- {pt}" for pt in points] or ["- (the document has no text)"]
    cites = _Cites()
    cites.add(found.sku, found.info.title, found.info.kind.value, found.info.ref)
    return AssistResult(
        title=f"Summary: {found.info.title}",
        text="\n".join(lines),
        citations=cites.items,
        data={"sku": found.sku, "document": info.model_dump(mode="json"), "points": points},
    )


# --- reply draft -----------------------------------------------------------------------


def _attr_quantity(a: SpecAttribute) -> Any:
    if a.dimension is None:
        return None
    try:
        return parse_quantity(a.value, dimension=a.dimension)
    except (QuantityError, ValueError):
        return None


def check_constraint(c: Constraint, sheet: SpecSheet) -> tuple[str, SpecAttribute | None]:
    """'meets' | 'fails' | 'unknown' for one constraint against a spec sheet's primary value."""
    attr = next((a for a in sheet.attributes if a.name == c.attribute), None)
    if attr is None:
        return "unknown", None
    if c.op == "exists":
        return "meets", attr
    if c.value is not None:
        q = _attr_quantity(attr)
        if q is None:
            return "unknown", attr
        ok = compare(q, c.op, c.value)
        return ("unknown" if ok is None else "meets" if ok else "fails"), attr
    wanted = (c.text or "").strip().casefold()
    same = attr.value.strip().casefold() == wanted
    if c.op == "!=":
        return ("fails" if same else "meets"), attr
    return ("meets" if same else "fails"), attr


@dataclass
class DraftFacts:
    sheets: list[SpecSheet] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def template_draft(
    packet: HandoffPacket, facts: DraftFacts, constraints: Sequence[Constraint], skipped: Sequence[str]
) -> tuple[str, list[Citation]]:
    """The deterministic reply: what the buyer wants, the facts per SKU, checks, what is still open."""
    cites = _Cites()
    paras: list[str] = []
    opening = (
        "Thanks for waiting — I'm a product specialist and I've read your conversation with our assistant."
    )
    opening += _goal_sentence(packet)
    paras.append(opening)
    for sheet in facts.sheets[:MAX_DRAFT_SKUS]:
        p = sheet.product
        key = [a for a in sheet.attributes if not a.marketing_only][:KEY_ATTRIBUTES_IN_DRAFT]
        if key:
            values = "; ".join(f"{a.label.lower()} {a.value}" for a in key)
            docs = sorted({a.source.document_title for a in key})
            para = f"{p.sku} ({p.name}): {values} (per the {', '.join(docs)})."
            cites.from_sheet(sheet, key)
        else:
            para = (
                f"{p.sku} ({p.name}): the catalog has no verified technical data for it, "
                "so I will confirm the details with the manufacturer."
            )
        if p.status is not Lifecycle.ACTIVE:
            succ = sheet.supersession_chain[-1] if sheet.supersession_chain else None
            para += f" Note that {p.sku} is discontinued" + (
                f"; its current successor is {succ}." if succ else "."
            )
        for c in sheet.conflicts:
            if any(a.name == c.attribute for a in key):
                shown = next(a for a in key if a.name == c.attribute)
                others = ", ".join(
                    f"{v.value} ({v.document_title})" for v in c.values if v.value != shown.value
                )
                para += (
                    f" Our documents disagree on {c.label.lower()} ({others}); I'll confirm the exact figure."
                )
                for v in c.values:
                    cites.add(p.sku, v.document_title, v.document_kind.value, v.ref)
        for c in constraints:
            verdict, attr = check_constraint(c, sheet)
            if attr is None:
                para += (
                    f" The catalog does not state its {c.attribute} yet,"
                    f" so I will check {c.describe()} for you."
                )
            elif verdict == "meets":
                para += f" It meets your requirement of {c.describe()} ({attr.value})."
                cites.from_sheet(sheet, [attr])
            elif verdict == "fails":
                para += f" It does not meet {c.describe()} ({attr.value})."
                cites.from_sheet(sheet, [attr])
        paras.append(para)
    if facts.missing:
        paras.append(
            f"I couldn't find {', '.join(facts.missing)} in our catalog; could you confirm the part number?"
        )
    open_items = [t for t in (_open_item(n.text, packet.goal) for n in packet.unresolved) if t]
    if open_items:
        paras.append("Still open: " + "; ".join(open_items) + ". I'll come back to you on these.")
    if skipped:
        paras.append("I'll also double-check: " + "; ".join(s.split(" (")[0] for s in skipped) + ".")
    paras.append("Let me know if anything here doesn't match what you need.")
    return "\n\n".join(paras), cites.items


_GREETING = re.compile(r"^(?:hi|hello|hey|dear|good (?:morning|afternoon|evening))\b[^,.!?]*[,.!]?\s*", re.I)
_FIRST_PERSON = re.compile(r"^(?:i|i'm|i've|we|we're|we've|our|my|us)\b", re.I)


def _goal_sentence(packet: HandoffPacket) -> str:
    """The "You're looking to <goal>." sentence, only when the goal reads as one short aim; the
    packet's goal is often the buyer's own words (a question, a greeting, several sentences):
    those are not pasted back, the SKUs are named instead."""
    goal = _GREETING.sub("", packet.goal.strip()).strip()
    skus = list(dict.fromkeys(p.sku for p in packet.products))[:3]
    plain = (
        goal
        and len(goal) <= 100
        and "?" not in goal
        and not _FIRST_PERSON.match(goal)
        and goal.rstrip(".!").count(".") == 0
    )
    if plain:
        goal = goal.rstrip(".!")
        return f" You're looking to {goal[0].lower() + goal[1:]}."
    if skus:
        return f" You asked about {_join(skus)}."
    return ""


def _open_item(text: str, goal: str) -> str:
    """An unresolved note for the reply; the buyer's own questions and long quotes are left out."""
    item = text.strip().rstrip(".!")
    if not item or "?" in item or len(item) > 120 or item.casefold() in goal.casefold():
        return ""
    return item


def _join(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


_FACT_RE = re.compile(r"\b[A-Z]{1,5}-[A-Z0-9][\w-]*\b|\d+(?:[.,]\d+)?")


def keeps_facts(original: str, rephrased: str) -> bool:
    """A rewording must keep every SKU and every number of the template."""
    return all(f in rephrased for f in set(_FACT_RE.findall(original)))


async def draft(
    catalog: CatalogService,
    packet: HandoffPacket,
    *,
    skus: Sequence[str] = (),
    instructions: str = "",
    phraser: ChatPhraser | None = None,
    llm_timeout: float = 20.0,
    progress: Progress = _no_progress,
) -> AssistResult:
    wanted = list(dict.fromkeys([*skus, *[p.sku for p in packet.products]]))[:MAX_DRAFT_SKUS]
    facts = DraftFacts()
    for i, sku in enumerate(wanted):
        await progress(0.6 * i / max(len(wanted), 1), f"reading {sku}")
        try:
            facts.sheets.append(await catalog.spec_sheet(sku))
        except ProductNotFound:
            if sku in skus:
                raise
            facts.missing.append(sku)
    constraints, skipped = packet_constraints(packet)
    text, citations = template_draft(packet, facts, constraints, skipped)
    phrased_by = "template"
    fallback: str | None = None
    if phraser is not None:
        await progress(0.7, "wording the reply")
        outcome = "a product specialist's reply to a buyer"
        if instructions.strip():
            outcome += f"; the specialist asks: {instructions.strip()}"
        try:
            worded = await asyncio.wait_for(phraser.rephrase(text, outcome=outcome), llm_timeout)
        except Exception as exc:  # any model failure keeps the template (same facts, same citations)
            log.warning("language model unavailable, keeping the template draft: %s", exc)
            fallback = (
                f"language model failed: {exc}"
                if str(exc)
                else f"language model failed: {type(exc).__name__}"
            )
        else:
            if keeps_facts(text, worded):
                text, phrased_by = worded, "llm"
            else:
                fallback = "the language model dropped a part number or a number; kept the template"
    data: dict[str, Any] = {
        "grounded": bool(citations),
        "phrased_by": phrased_by,
        "skus": [s.product.sku for s in facts.sheets],
        "missing_skus": facts.missing,
        "constraints": [c.describe() for c in constraints],
        "skipped_constraints": list(skipped),
    }
    if instructions.strip():
        data["instructions"] = instructions.strip()
    if fallback:
        data["fallback_reason"] = fallback
    return AssistResult(title="Draft reply", text=text, citations=citations, data=data)


# --- search ----------------------------------------------------------------------------


async def search(catalog: CatalogService, query: str) -> AssistResult:
    hits = await catalog.search(query, limit=MAX_SEARCH_HITS)
    docs = await _document_refs(catalog, [h.sku for h in hits if h.doc_title])
    cites = _Cites()
    lines = [f"{len(hits)} result{'s' if len(hits) != 1 else ''} for {query!r}"]
    for h in hits:
        line = f"- {h.sku} — {h.name} ({h.family.replace('_', ' ')}, {h.status.value})"
        if h.doc_title:
            line += f": “{h.snippet}” ({h.doc_title})"
            ref = next((r for t, _k, r in docs.get(h.sku, []) if t == h.doc_title), "")
            cites.add(h.sku, h.doc_title, h.doc_kind.value if h.doc_kind else "", ref)
        lines.append(line)
    if not hits:
        lines.append("Nothing in the catalog matches.")
    return AssistResult(
        title=f"Search: {query}",
        text="\n".join(lines),
        citations=cites.items,
        data={"hits": [h.model_dump(mode="json") for h in hits]},
    )


# --- checks a submitter can run first ----------------------------------------------------


@dataclass
class RequestProblem:
    """Why a request cannot run, with the field it concerns (for a 422)."""

    loc: tuple[str | int, ...]
    message: str
    value: Any = None
    closest: list[str] = field(default_factory=list)  # "did you mean" SKUs, closest first


async def check_request(
    catalog: CatalogService, request: AssistRequest, packet: HandoffPacket | None = None
) -> RequestProblem | None:
    """Fast checks before a job is queued: every SKU exists, constraints and filters parse,
    a summary's document exists."""
    for i, sku in enumerate(request.skus):
        if await catalog.get_product(sku) is None:
            closest = await catalog.closest_skus(sku)
            hint = f"; closest: {', '.join(closest)}" if closest else ""
            return RequestProblem(("skus", i), f"unknown SKU {sku!r}{hint}", sku, closest)
    for i, text in enumerate(request.constraints or []):
        try:
            parse_constraint(text)
        except ConstraintError as exc:
            return RequestProblem(("constraints", i), f"cannot read {exc.part!r}: {exc.reason}", text)
    if request.kind is AssistKind.SEARCH:
        try:
            parse_search_query(request.query or "")
        except ConstraintError as exc:
            return RequestProblem(("query",), f"cannot read {exc.part!r}: {exc.reason}", request.query)
    if request.kind is AssistKind.SUMMARY:
        try:
            await find_document(catalog, request.document or "", request.skus, packet or _empty_packet())
        except AssistError as exc:
            return RequestProblem(("document",), str(exc), request.document)
    return None
