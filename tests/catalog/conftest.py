"""Catalog fixtures: a migrated database (SQLite and PostgreSQL) and its async engine."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from warmline.catalog.service import CatalogService, make_engine
from warmline.storage.migrate import upgrade

REPO = Path(__file__).resolve().parents[2]
# Apache-2.0 tables from gumyr/cq_warehouse, kept in the repository (LICENSE, NOTICE, SOURCE.md there)
BEARINGS = REPO / "tests" / "data" / "bearings"
BEARING_MAPPING = REPO / "resources" / "mappings" / "bearings.toml"


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[object]:
    """An async engine on a freshly migrated database; disposed afterwards."""
    await upgrade(database_url)
    eng = make_engine(database_url)
    try:
        yield eng
    finally:
        await eng.dispose()


@pytest.fixture
def bearing_tables() -> Path:
    """The real bearing tables (read-only, in tests/data/bearings: every clone has them)."""
    assert BEARINGS.is_dir(), f"bearing tables missing from {BEARINGS}"
    return BEARINGS


@pytest.fixture
def service(engine) -> CatalogService:
    return CatalogService(engine)
