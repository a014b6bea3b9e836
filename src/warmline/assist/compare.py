"""The ``compare`` lookup: 2 to 4 SKUs side by side, differing attributes first."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from warmline.assist.common import (
    Progress,
    _Cites,
    _no_progress,
)
from warmline.assist.spec import _product_line
from warmline.catalog.models import SpecAttribute, SpecSheet
from warmline.catalog.service import CatalogService
from warmline.domain.assist import AssistResult, CompareRow


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
