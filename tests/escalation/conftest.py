"""Escalation fixtures: the engine over the real demo catalog (SQLite, and PostgreSQL where asked)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from warmline.catalog.demo import ensure_demo_catalog
from warmline.catalog.service import CatalogService, make_engine
from warmline.domain.models import AuthorKind
from warmline.escalation.engine import EscalationEngine
from warmline.escalation.models import Turn

DEV_SET = Path(__file__).resolve().parents[1] / "data" / "escalation-dev.jsonl"


@pytest.fixture(scope="session")
def demo_sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One demo catalog on SQLite for the whole session (read-only for the tests)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('demo-catalog') / 'catalog.db'}"
    asyncio.run(ensure_demo_catalog(url))
    return url


@pytest.fixture
async def engine(demo_sqlite_url: str) -> AsyncIterator[EscalationEngine]:
    """The engine with default policy, grounded in the SQLite demo catalog."""
    db = make_engine(demo_sqlite_url)
    try:
        yield EscalationEngine(catalog=CatalogService(db))
    finally:
        await db.dispose()


@pytest.fixture
async def engine_on_db(database_url: str) -> AsyncIterator[EscalationEngine]:
    """The engine over a fresh demo catalog in this test's database (SQLite and PostgreSQL)."""
    await ensure_demo_catalog(database_url)
    db = make_engine(database_url)
    try:
        yield EscalationEngine(catalog=CatalogService(db))
    finally:
        await db.dispose()


class Chat:
    """A conversation driven turn by turn through the engine, as the hub would."""

    def __init__(self, engine: EscalationEngine, account=None) -> None:
        self.engine = engine
        self.account = account
        self.turns: list[Turn] = []

    async def say(self, body: str):
        self.turns.append(Turn(seq=len(self.turns) + 1, author_kind=AuthorKind.BUYER, body=body))
        decision = await self.engine.decide(self.turns, self.account)
        self.turns.append(Turn(seq=len(self.turns) + 1, author_kind=AuthorKind.AI, body=decision.reply))
        return decision
