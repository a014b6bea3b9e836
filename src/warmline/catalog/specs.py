"""Spec sheets: everything known about one SKU, each value with its source, conflicts flagged.

When sources disagree the most authoritative one is shown (``store.SOURCE_RANK``: a table
over a datasheet over a manual... over marketing copy) and the disagreement is listed.
"""

from __future__ import annotations

from dataclasses import dataclass

from warmline.catalog.models import (
    DocKind,
    DocumentInfo,
    RelationInfo,
    RelationKind,
    SpecAttribute,
    SpecConflict,
    SpecSheet,
)
from warmline.catalog.store import CatalogStore, _fetch, _stmts, _summary
from warmline.catalog.units import ATTRIBUTES


@dataclass(frozen=True)
class _Doc:
    """One document row of a spec sheet."""

    title: str
    kind: str
    ref: str
    origin: str
    head: str | None


class SpecSheets(CatalogStore):
    """``spec_sheet``: attributes with unit and source, conflicts, documents, relations."""

    async def spec_sheet(self, sku: str) -> SpecSheet:
        """Everything known about a SKU: attributes with unit and source, conflicts, documents."""
        async with self._conn() as conn:
            row = await self._require(conn, sku)
            attrs = (await self._values(conn, [row.id]))[row.id]
            # Documents and relations both ways in one round trip (tag 0, 1, 2; each in id order).
            got = await _fetch(conn, _stmts().spec_parts, {"pid": row.id, "sku": row.sku})
            docs = [_Doc(x.a, x.kind, x.b, x.c, x.head) for x in got if x.tag == 0]
            rels_out = [(x.kind, x.a, x.b) for x in got if x.tag == 1]
            rels_in = [(x.kind, x.a, x.b) for x in got if x.tag == 2]
            chain = await self._chain(conn, row)
        attributes, conflicts = [], []
        for name, attr in sorted(attrs.items(), key=lambda kv: _attr_order(kv[0])):
            label = ATTRIBUTES[name].label if name in ATTRIBUTES else name.replace("_", " ").capitalize()
            p = attr.primary
            sources = [v.source() for v in attr.values]
            attributes.append(
                SpecAttribute(
                    name=name,
                    label=label,
                    value=p.value_text,
                    unit=p.unit,
                    dimension=p.dimension,
                    value_si=p.lo,
                    value_si_max=p.hi if p.hi != p.lo else None,
                    source=sources[0],
                    sources=sources,
                    conflict=attr.conflict,
                    marketing_only=attr.marketing_only,
                )
            )
            if attr.conflict:
                said = "; ".join(f"{v.title} ({v.kind}) says {v.value_text}" for v in attr.values)
                conflicts.append(
                    SpecConflict(
                        attribute=name,
                        label=label,
                        values=sources,
                        note=(
                            f"sources disagree on {label.lower()}: {said}. "
                            f"Shown: {p.value_text} from {p.title}."
                        ),
                    )
                )
        documents = [
            DocumentInfo(title=x.title, kind=DocKind(x.kind), ref=x.ref or x.origin, excerpt=_excerpt(x.head))
            for x in docs
        ]
        kinds = {x.kind for x in docs} | {v.kind for a in attrs.values() for v in a.values}
        technical = any(DocKind(k).technical for k in kinds)
        evidence = "technical" if technical else ("marketing_only" if "marketing" in kinds else "none")
        relations = [
            RelationInfo(kind=RelationKind(k), sku=s, direction="out", note=n) for k, s, n in rels_out
        ]
        relations += [
            RelationInfo(kind=RelationKind(k), sku=s, direction="in", note=n) for k, s, n in rels_in
        ]
        return SpecSheet(
            product=_summary(row),
            attributes=attributes,
            conflicts=conflicts,
            documents=documents,
            relations=relations,
            superseded_by=row.superseded_by,
            supersession_chain=chain,
            evidence=evidence,
        )


_ORDER = list(ATTRIBUTES)


def _attr_order(name: str) -> tuple[int, str]:
    return (_ORDER.index(name) if name in _ORDER else len(_ORDER), name)


def _excerpt(head: str | None) -> str:
    if not head:
        return ""
    lines = [ln.strip() for ln in head.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    out = " ".join(lines)
    return out[:200] + ("…" if len(out) > 200 else "")
