"""The ``spec`` lookup: spec sheets as text for the specialist, each value with its source."""

from __future__ import annotations

from collections.abc import Sequence

from warmline.assist.common import (
    Progress,
    _Cites,
    _no_progress,
)
from warmline.catalog.models import SpecAttribute, SpecSheet
from warmline.catalog.service import CatalogService
from warmline.domain.assist import AssistResult


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
