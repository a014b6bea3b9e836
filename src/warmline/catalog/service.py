"""Catalog lookups: search, spec sheets, substitutes and accessories, answered from data.

Used in-process by the hub and the assistant, and over HTTP under /v1/catalog. Queries go
to the database (SQLite FTS5 or PostgreSQL full text for text, an indexed table of
normalised attribute values for filters). ``CatalogService`` is the one entry point; each
kind of lookup lives in its own module:

- ``store``: the engine, products by SKU, "did you mean", attribute values, chains;
- ``filters``: constraints as SQL and the plan choice (which filter a lookup starts from);
- ``search``, ``specs``, ``substitutes``, ``accessories``: the lookups themselves.
"""

from __future__ import annotations

from warmline.catalog.accessories import AccessoryLookups
from warmline.catalog.search import RANK_CAP, SearchLookups, parse_search_query, sku_prefix_key
from warmline.catalog.specs import SpecSheets
from warmline.catalog.store import (
    MAX_SKU_CHARS,
    SOURCE_RANK,
    FamilyRules,
    ProductNotFound,
    family_rules,
    make_engine,
)
from warmline.catalog.substitutes import OVERSIZE_FACTOR, SubstituteLookups
from warmline.catalog.units import ConstraintError


class CatalogService(SearchLookups, SpecSheets, SubstituteLookups, AccessoryLookups):
    """The catalog's lookups over an async engine (or session factory)."""


__all__ = [
    "MAX_SKU_CHARS",
    "OVERSIZE_FACTOR",
    "RANK_CAP",
    "SOURCE_RANK",
    "CatalogService",
    "ConstraintError",
    "FamilyRules",
    "ProductNotFound",
    "family_rules",
    "make_engine",
    "parse_search_query",
    "sku_prefix_key",
]
