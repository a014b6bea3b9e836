"""Alembic environment: always driven programmatically by warmline.hub.store.migrate."""

from __future__ import annotations

from alembic import context

from warmline.hub.store.tables import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `warmline db upgrade` (warmline.hub.store.migrate.upgrade)")

context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
