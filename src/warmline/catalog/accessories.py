"""Accessories: what goes with a SKU, from its relations, then the family rules' complements."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from warmline.catalog import tables as t
from warmline.catalog.filters import FilterSQL
from warmline.catalog.models import AccessoryItem, Lifecycle, RelationKind
from warmline.catalog.store import FamilyRules, _implicit, _summary, family_rules


class AccessoryLookups(FilterSQL):
    """``accessories``: accessories, compatible parts, then complements by family rule."""

    async def accessories(self, sku: str) -> list[AccessoryItem]:
        """What goes with a SKU: its accessories, compatible parts, then family-rule complements."""
        p, r = t.products, t.relations
        async with self._conn() as conn:
            orig = await self._require(conn, sku)
            items: list[AccessoryItem] = []
            seen = {orig.sku}
            for row in await _relating(conn, RelationKind.ACCESSORY_OF, orig.sku):
                if row.sku not in seen:
                    seen.add(row.sku)
                    items.append(
                        AccessoryItem(
                            product=_summary(row),
                            relation="accessory_of",
                            note=row.note or f"accessory of {orig.sku}",
                        )
                    )
            compat_in = await _relating(conn, RelationKind.COMPATIBLE_WITH, orig.sku)
            out_targets = (
                await conn.execute(
                    select(r.c.target_sku, r.c.note, r.c.kind).where(
                        r.c.product_id == orig.id,
                        r.c.kind.in_([RelationKind.COMPATIBLE_WITH.value, RelationKind.ACCESSORY_OF.value]),
                    )
                )
            ).all()
            compat_out = []
            if out_targets:
                notes = {s: (n, k) for s, n, k in out_targets}
                for row in (
                    await conn.execute(select(p).where(p.c.sku.in_(list(notes))).order_by(p.c.sku))
                ).all():
                    n, k = notes[row.sku]
                    compat_out.append((row, n or ("used with" if k == "accessory_of" else "compatible")))
            for row in compat_in:
                if row.sku not in seen:
                    seen.add(row.sku)
                    items.append(
                        AccessoryItem(
                            product=_summary(row),
                            relation="compatible_with",
                            note=row.note or f"compatible with {orig.sku}",
                        )
                    )
            for row, note in compat_out:
                if row.sku not in seen:
                    seen.add(row.sku)
                    items.append(AccessoryItem(product=_summary(row), relation="compatible_with", note=note))
            rules = family_rules().get(orig.family, FamilyRules())
            if rules.complements:
                orig_attrs = (await self._values(conn, [orig.id]))[orig.id]
                for fam, match in rules.complements:
                    conds: list[ColumnElement[bool]] = [
                        p.c.family == fam,
                        p.c.status == Lifecycle.ACTIVE.value,
                    ]
                    said = []
                    usable = True
                    for name in match:
                        c = _implicit(orig_attrs.get(name), "=")
                        if c is None:
                            usable = False
                            break
                        conds.append(self._filter_sql(c, p.c.id))
                        said.append(f"{name.replace('_', ' ')} {orig_attrs[name].primary.value_text}")
                    if not usable:
                        continue
                    rows = (await conn.execute(select(p).where(*conds).order_by(p.c.sku).limit(5))).all()
                    for row in rows:
                        if row.sku not in seen:
                            seen.add(row.sku)
                            note = (
                                f"{fam.replace('_', ' ')} with the same {', '.join(said)}"
                                if said
                                else f"{fam.replace('_', ' ')} used with {orig.family.replace('_', ' ')}s"
                            )
                            items.append(
                                AccessoryItem(product=_summary(row), relation="family_rule", note=note)
                            )
            return items


async def _relating(conn: AsyncConnection, kind: RelationKind, sku: str) -> list[Any]:
    """Products that name ``sku`` in a relation of ``kind``, with the relation's note, by SKU."""
    p, r = t.products, t.relations
    q = (
        select(p, r.c.note)
        .join(r, r.c.product_id == p.c.id)
        .where(r.c.kind == kind.value, r.c.target_sku == sku)
        .order_by(p.c.sku)
    )
    return list((await conn.execute(q)).all())
