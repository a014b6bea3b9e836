"""The ``subs`` lookup: ranked substitutes for one SKU, checked against the request's constraints
or the handoff packet's."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import select

from warmline.assist.common import (
    MAX_SUBSTITUTES,
    _Cites,
)
from warmline.catalog import tables as ct
from warmline.catalog.service import CatalogService, ProductNotFound
from warmline.catalog.units import (
    ATTRIBUTES,
    PRODUCT_FIELDS,
    Constraint,
    ConstraintError,
    QuantityError,
    constraint_from_packet,
    parse_constraint,
)
from warmline.domain.assist import AssistResult
from warmline.domain.packet import HandoffPacket


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
