"""Alembic on a fresh database, both engines: every head reached, and autogenerate finds no
difference between the migrated database and the whole schema (hub and catalog tables)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from warmline.storage.engine import create_engine
from warmline.storage.migrate import alembic_config, current_revision, upgrade
from warmline.storage.schema import include_name, load_all_tables

METADATA = load_all_tables()


async def test_upgrade_creates_the_whole_schema_and_is_repeatable(database_url: str, tmp_path) -> None:
    if database_url.startswith("sqlite"):
        database_url = f"sqlite:///{tmp_path / 'nested' / 'dir' / 'w.db'}"  # parent folders get made
    assert await current_revision(database_url) is None
    await upgrade(database_url)
    heads = ",".join(sorted(ScriptDirectory.from_config(alembic_config()).get_heads()))
    assert await current_revision(database_url) == heads
    await upgrade(database_url)  # a second run is a no-op
    assert await current_revision(database_url) == heads

    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:

            def diff(sync_conn):
                ctx = MigrationContext.configure(
                    sync_conn,
                    opts={"compare_type": True, "compare_server_default": True, "include_name": include_name},
                )
                changes = compare_metadata(ctx, METADATA)
                tables = set(inspect(sync_conn).get_table_names())
                return changes, tables

            changes, tables = await conn.run_sync(diff)
    finally:
        await engine.dispose()
    assert tables >= set(METADATA.tables)

    assert changes == [], changes


def test_the_hub_revision_is_0001_initial() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    base = script.get_revision("0001_initial")
    assert base is not None and base.down_revision is None
