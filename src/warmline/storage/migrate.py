"""Bring a database to the current schema with Alembic, without any alembic.ini.

Upgrades run to "heads": features add their migrations as branches of one revision
(e.g. 0006_widget and 0007_signin both revise 0005_catalog_perf), all applied."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from warmline.storage.engine import create_engine
from warmline.storage.urls import is_sqlite, sqlite_path

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Serialises concurrent `upgrade` calls from several hub processes on one PostgreSQL.
MIGRATION_LOCK_KEY = 0x57A7_0001


def alembic_config() -> Config:
    """Alembic's config pointing at the migrations folder (the whole schema)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", str(MIGRATIONS_DIR / "versions"))
    return cfg


def ensure_sqlite_dir(database_url: str) -> None:
    """SQLite will not create missing parent folders of its file; do it for it."""
    path = sqlite_path(database_url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)


async def upgrade(database_url: str, revision: str = "heads") -> None:
    """Run every migration up to ``revision`` (creating the SQLite folder first)."""
    ensure_sqlite_dir(database_url)
    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            if not is_sqlite(database_url):
                await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
            await conn.run_sync(_run, revision)
    finally:
        await engine.dispose()


async def current_revision(database_url: str) -> str | None:
    """The revision the database is at (None when never migrated; several heads joined by ",")."""
    from alembic.runtime.migration import MigrationContext

    path = sqlite_path(database_url)
    if path is not None and not path.exists():
        return None  # asking must not create the file
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            heads = await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_heads())
    finally:
        await engine.dispose()
    return ",".join(sorted(heads)) if heads else None


def _run(connection: Any, revision: str) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, revision)
