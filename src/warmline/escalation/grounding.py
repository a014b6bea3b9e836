"""Grounding: what the catalog says about the products in a conversation.

Adapts the catalog layer (``warmline.catalog.service.CatalogService``) to the plain
evidence records the signals read (``RetrievalHit``, ``ProductEvidence``), so signal
functions stay testable without a database and the engine has one place that knows
the catalog's API.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Protocol

from warmline.escalation.signals import DocumentRef, ProductEvidence, RetrievalHit, ValueConflict


class CatalogLike(Protocol):
    """The part of CatalogService the engine uses."""

    async def search(self, query: str, *, limit: int = 20) -> list[Any]: ...
    async def spec_sheet(self, sku: str) -> Any: ...
    async def get_product(self, sku: str) -> Any: ...
    async def substitutes(
        self, sku: str, constraints: list[Any], *, include_discontinued: bool = False, limit: int = 10
    ) -> list[Any]: ...


# Tokens that look like part numbers: letters and digits with an optional dash ("GX-240",
# "6205-2RS", "PF-G14-8"). Units and ratings ("IP65", "M12", "400V") are filtered below.
_SKU_TOKEN = re.compile(r"\b[A-Za-z0-9]{1,8}(?:[-/][A-Za-z0-9]{1,8}){0,4}\b")
_NOT_SKU = re.compile(
    r"^(ip\d{2}k?|m\d{1,2}|g\d.*|r\d/\d+|pn\d+|dn\d+|b\d{1,2}|sil\d|pl[a-e]|\d+awg|npt.*|"
    r"\d+(?:[.,]\d+)?(?:v|a|w|kw|nm|bar|psi|mm|m|c|f|k|hz|rpm|pcs|x|s|h|l|ml|kg|g)|"
    r"\d{1,3}|\d{1,2}-\d{1,2}|iso\d+|en\d+|iec\d+|ex|zone\d)$",
    re.I,
)


def sku_candidates(text: str) -> list[str]:
    """Tokens that could be catalog SKUs, in text order, without units, ratings or small numbers."""
    seen: dict[str, None] = {}
    for m in _SKU_TOKEN.finditer(text):
        token = m.group(0).strip("-/")
        if not re.search(r"\d", token) or _NOT_SKU.match(token):
            continue
        seen.setdefault(token.upper(), None)
    return list(seen)


def _plural(token: str) -> bool:
    """A part number with a plural "s" ("GX-220s"): digits, then one trailing S."""
    return len(token) > 3 and token[-1] in "sS" and token[-2].isdigit()


def looks_like_part_number(token: str) -> bool:
    """A token that is plainly meant as a part number (letters-dash-digits), known or not."""
    return bool(re.fullmatch(r"[A-Z]{1,5}-?\d{2,6}(?:-[A-Z0-9]{1,6})*", token.upper())) and "-" in token


@dataclass
class Grounding:
    """Evidence for one turn: search hits and the spec evidence of products under discussion."""

    hits: list[RetrievalHit] = field(default_factory=list)
    products: dict[str, ProductEvidence] = field(default_factory=dict)
    unknown_skus: list[str] = field(default_factory=list)
    closest: dict[str, list[str]] = field(default_factory=dict)


class CatalogGrounder:
    """Asks the catalog; converts its models; caches spec sheets per engine call."""

    def __init__(self, catalog: CatalogLike | None) -> None:
        self.catalog = catalog
        self._sheets: dict[str, ProductEvidence | None] = {}

    @property
    def available(self) -> bool:
        return self.catalog is not None

    async def known_skus(self, text: str) -> tuple[list[str], list[str], dict[str, list[str]]]:
        """(catalog SKUs named in text, part numbers not in the catalog, their closest SKUs)."""
        if self.catalog is None:
            return [], [], {}
        known: list[str] = []
        unknown: list[str] = []
        closest: dict[str, list[str]] = {}
        for token in sku_candidates(text):
            product = await self.catalog.get_product(token)
            if product is None and _plural(token):
                product = await self.catalog.get_product(token[:-1])  # "GX-220s": several GX-220
            if product is not None:
                known.append(product.sku)
            elif looks_like_part_number(token):
                unknown.append(token)
                finder = getattr(self.catalog, "closest_skus", None)
                if finder is not None:
                    closest[token] = list(await finder(token, limit=3))
        return known, unknown, closest

    async def evidence(self, sku: str) -> ProductEvidence | None:
        """The product's spec evidence, or None when the catalog has no such SKU."""
        if self.catalog is None:
            return None
        if sku not in self._sheets:
            try:
                sheet = await self.catalog.spec_sheet(sku)
            except LookupError:
                self._sheets[sku] = None
            else:
                self._sheets[sku] = evidence_from_sheet(sheet)
        return self._sheets[sku]

    async def search(self, query: str, limit: int = 8) -> list[RetrievalHit]:
        """Search hits as plain records; a query the catalog rejects yields no hits."""
        if self.catalog is None or not query.strip():
            return []
        try:
            hits = await self.catalog.search(query, limit=limit)
        except ValueError:
            return []
        return [
            RetrievalHit(
                sku=h.sku,
                name=h.name,
                family=h.family,
                score=float(h.score),
                status=str(h.status),
                doc_kind=str(h.doc_kind) if h.doc_kind is not None else None,
                doc_title=h.doc_title,
            )
            for h in hits
        ]

    async def substitutes(self, sku: str, constraints: list[Any], limit: int = 5) -> list[Any]:
        """Substitute candidates for a product under the buyer's constraints (catalog models)."""
        if self.catalog is None:
            return []
        try:
            return list(await self.catalog.substitutes(sku, constraints, limit=limit))
        except (LookupError, ValueError):
            return []


def evidence_from_sheet(sheet: Any) -> ProductEvidence:
    """Convert a catalog SpecSheet to the plain evidence the signals read."""
    attributes = {
        a.name: a.value if not a.unit or a.value.endswith(a.unit) else f"{a.value} {a.unit}"
        for a in sheet.attributes
    }
    documents = tuple(DocumentRef(title=d.title, kind=str(d.kind), ref=d.ref) for d in sheet.documents)
    conflicts = tuple(
        ValueConflict(
            attribute=c.attribute,
            values=tuple((v.document_title, str(v.document_kind), v.value) for v in c.values),
        )
        for c in sheet.conflicts
    )
    product = sheet.product
    return ProductEvidence(
        sku=product.sku,
        name=product.name,
        family=product.family,
        status=str(product.status),
        superseded_by=sheet.superseded_by or product.superseded_by,
        attributes=attributes,
        documents=documents,
        conflicts=conflicts,
    )
