"""Catalog fixtures: a migrated database (SQLite and PostgreSQL) and its async engine."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest

from warmline.catalog.service import CatalogService, make_engine
from warmline.hub.embedded import EmbeddedHub
from warmline.hub.settings import HubSettings
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


@contextlib.asynccontextmanager
async def _agent_client(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A real hub on ``database_url`` (loopback) and an HTTP client with an agent's token."""
    hub = EmbeddedHub(HubSettings(database_url=database_url, host="127.0.0.1", port=0))
    hub.start()
    try:
        _agent, token = hub.create_agent("ana", ["drives"])
        async with httpx.AsyncClient(
            base_url=hub.base_url, timeout=30, headers={"Authorization": f"Bearer {token}"}
        ) as client:
            yield client
    finally:
        hub.stop()


@pytest.fixture
def agent_client() -> Callable[[str], contextlib.AbstractAsyncContextManager[httpx.AsyncClient]]:
    """``async with agent_client(url) as c``: a hub on ``url`` once its data is in place."""
    return _agent_client
