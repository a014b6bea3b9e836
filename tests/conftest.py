"""Shared fixtures: a fresh database per test on SQLite and on PostgreSQL.

`database_url` is parametrized over both engines, so every test that takes it runs
twice. PostgreSQL tests need the server named by WARMLINE_TEST_POSTGRES_URL
(default: postgresql://postgres@127.0.0.1:5432/postgres); when it cannot be reached
they are skipped, unless WARMLINE_REQUIRE_POSTGRES=1 (CI sets it), which fails them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

POSTGRES_ADMIN_URL = os.environ.get(
    "WARMLINE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REQUIRE_POSTGRES = os.environ.get("WARMLINE_REQUIRE_POSTGRES") == "1"


def _pg_execute(sql: str) -> None:
    """Run one statement on the admin database outside a transaction (CREATE/DROP DATABASE)."""
    import asyncio

    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=5)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run())


def _postgres_available() -> str | None:
    try:
        _pg_execute("SELECT 1")
    except Exception as exc:  # any failure means "not reachable"
        return f"{type(exc).__name__}: {exc}"
    return None


_pg_problem: str | bool | None = False  # False = not checked yet


def _require_postgres() -> None:
    global _pg_problem
    if _pg_problem is False:
        _pg_problem = _postgres_available()
    if _pg_problem:
        message = f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {_pg_problem}"
        if REQUIRE_POSTGRES:
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A new, empty PostgreSQL database for this test; dropped afterwards."""
    _require_postgres()
    name = f"warmline_test_{uuid.uuid4().hex[:12]}"
    _pg_execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        _pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'warmline.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request) -> str:
    """A fresh empty database URL, once on SQLite and once on PostgreSQL (plain URL form:
    `sqlite:///...` or `postgresql://...`; the hub picks the async driver)."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("postgres_url")
