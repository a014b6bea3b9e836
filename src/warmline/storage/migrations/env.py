"""Alembic environment: always driven programmatically by warmline.storage.migrate.

``target_metadata`` is the whole schema (every table module of
``warmline.storage.schema.TABLE_MODULES``), so autogenerate sees the hub's and the
catalog's tables alike."""

from __future__ import annotations

from alembic import context

from warmline.storage.schema import include_name, load_all_tables

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `warmline db upgrade` (warmline.storage.migrate.upgrade)")

context.configure(
    connection=connection,
    target_metadata=load_all_tables(),
    include_name=include_name,
    render_as_batch=True,
    compare_server_default=True,
)
with context.begin_transaction():
    context.run_migrations()
