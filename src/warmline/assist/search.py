"""The ``search`` lookup: catalog search hits with the documents they were found in."""

from __future__ import annotations

from warmline.assist.common import (
    MAX_SEARCH_HITS,
    _Cites,
)
from warmline.assist.substitutes import _document_refs
from warmline.catalog.service import CatalogService
from warmline.domain.assist import AssistResult


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
