"""The ``summary`` lookup: a document found by title or ref, summarised extractively (key points)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from warmline.assist.common import (
    MAX_SUMMARY_POINTS,
    AssistError,
    _Cites,
)
from warmline.catalog import tables as ct
from warmline.catalog.models import DocKind, DocumentInfo
from warmline.catalog.service import CatalogService, ProductNotFound
from warmline.domain.assist import AssistResult
from warmline.domain.packet import HandoffPacket


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
