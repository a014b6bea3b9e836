"""The ``acc`` lookup: accessories, compatible parts and family-rule complements of a SKU."""

from __future__ import annotations

from warmline.assist.common import (
    MAX_ACCESSORIES,
    _Cites,
)
from warmline.catalog.service import CatalogService
from warmline.domain.assist import AssistResult


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
