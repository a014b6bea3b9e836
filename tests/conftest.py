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


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    return str(longrepr[2]) if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """Say loudly when tests needing PostgreSQL were skipped (a green run then says nothing
    about PostgreSQL), and print the worst figures of the hub event-loop watchdog
    (tests/hub/loop_watchdog.py) when tests recorded them."""
    tr = terminalreporter
    skipped = [r for r in tr.stats.get("skipped", []) if "PostgreSQL" in _skip_reason(r)]
    if skipped:
        tr.section("PostgreSQL NOT TESTED", sep="!", red=True, bold=True)
        tr.line(
            f"{len(skipped)} test(s) needing PostgreSQL were SKIPPED: this run says nothing about "
            f"PostgreSQL ({_skip_reason(skipped[0]).splitlines()[0][:200]})",
            red=True,
            bold=True,
        )
        for report in skipped[:40]:
            tr.line(f"  SKIPPED {report.nodeid}", red=True)
        if len(skipped) > 40:
            tr.line(f"  ... and {len(skipped) - 40} more", red=True)
        tr.line("Start PostgreSQL or set WARMLINE_TEST_POSTGRES_URL; WARMLINE_REQUIRE_POSTGRES=1 fails them.")
    figures: dict[str, dict[str, float]] = {}
    for reports in tr.stats.values():
        for report in reports:
            for name, value in getattr(report, "user_properties", ()):
                if name in ("loop_max_busy_ms", "loop_max_lag_ms"):
                    figures.setdefault(report.nodeid, {})[name] = value
    if figures:
        busy_id = max(figures, key=lambda n: figures[n].get("loop_max_busy_ms", 0))
        lag_id = max(figures, key=lambda n: figures[n].get("loop_max_lag_ms", 0))
        tr.write_line(
            f"hub event-loop watchdog: {len(figures)} test(s); max busy "
            f"{figures[busy_id].get('loop_max_busy_ms', 0)} ms ({busy_id}); max lag "
            f"{figures[lag_id].get('loop_max_lag_ms', 0)} ms ({lag_id})"
        )
