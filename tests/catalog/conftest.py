"""Catalog fixtures: a migrated database (SQLite and PostgreSQL) and its async engine."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from warmline.catalog.service import CatalogService, make_engine
from warmline.hub.store.migrate import upgrade

REPO = Path(__file__).resolve().parents[2]
BEARINGS = REPO.parent / "shared" / "data" / "bearings"
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
    """The real bearing tables (read-only, beside the repository)."""
    if not BEARINGS.is_dir():
        message = f"bearing tables not at {BEARINGS} (../shared/data/bearings beside the repository)"
        if os.environ.get("CI") or os.environ.get("WARMLINE_REQUIRE_POSTGRES") == "1":
            pytest.fail(message)  # CI always has shared/ beside the clone: missing data is a failure
        pytest.skip(message)
    return BEARINGS


@pytest.fixture
def service(engine) -> CatalogService:
    return CatalogService(engine)
