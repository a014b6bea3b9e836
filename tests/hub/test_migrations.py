"""Alembic on a fresh database, both engines: head reached, schema equals the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from warmline.hub.store.db import create_engine
from warmline.hub.store.migrate import alembic_config, current_revision, upgrade
from warmline.hub.store.tables import Base

HUB_TABLES = set(Base.metadata.tables)


def only_hub_tables(name, type_, parent_names) -> bool:
    """Other features' tables (catalog_*) come from later revisions, not from the hub's models."""
    if type_ == "schema":
        return True
    if type_ == "table":
        return name in HUB_TABLES
    return parent_names.get("table_name") in HUB_TABLES


async def test_upgrade_creates_the_hub_schema_and_is_repeatable(database_url: str, tmp_path) -> None:
    if database_url.startswith("sqlite"):
        database_url = f"sqlite:///{tmp_path / 'nested' / 'dir' / 'w.db'}"  # parent folders get made
    assert await current_revision(database_url) is None
    await upgrade(database_url)
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert await current_revision(database_url) == head
    await upgrade(database_url)  # a second run is a no-op
    assert await current_revision(database_url) == head

    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:

            def diff(sync_conn):
                ctx = MigrationContext.configure(
                    sync_conn, opts={"compare_type": True, "include_name": only_hub_tables}
                )
                changes = compare_metadata(ctx, Base.metadata)
                tables = set(inspect(sync_conn).get_table_names())
                return changes, tables

            changes, tables = await conn.run_sync(diff)
    finally:
        await engine.dispose()
    assert tables >= HUB_TABLES

    assert changes == [], changes


def test_the_hub_revision_is_0001_initial() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    base = script.get_revision("0001_initial")
    assert base is not None and base.down_revision is None
