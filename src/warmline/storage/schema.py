"""The application's one schema: a shared MetaData (and declarative ``Base``) on which every
table registers -- the hub's (``warmline.hub.store.tables``) and the catalog's
(``warmline.catalog.tables``) -- so Alembic's environment compares the whole database.

This module imports neither package: ``TABLE_MODULES`` names them and ``load_all_tables``
imports them by name when the whole schema is needed (Alembic autogenerate, schema tests).
A package that adds tables registers them on ``metadata`` and lists its module here.
"""

from __future__ import annotations

import importlib
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, BigInteger, DateTime, Integer, MetaData
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Every module that defines tables on ``metadata`` (imported by ``load_all_tables``).
TABLE_MODULES: tuple[str, ...] = (
    "warmline.hub.store.tables",
    "warmline.catalog.tables",
    "warmline.buyer.tables",
    "warmline.hub.signin",
    "warmline.hub.metrics.tables",
    "warmline.hub.lifecycle.tables",
)


# Schema objects the migrations create by raw SQL for one engine only, kept out of the
# metadata: SQLite's FTS5 index over catalog_search (with its shadow tables) and
# PostgreSQL's stored tsvector column with its GIN index (migration 0002_catalog).
UNMODELLED_TABLE_PREFIXES = ("alembic_version", "catalog_fts")
UNMODELLED_COLUMNS = {("catalog_search", "tsv")}
UNMODELLED_INDEXES = {"ix_catalog_search_tsv"}


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic ``include_name`` hook: compare everything but the unmodelled objects above."""
    if type_ == "table":
        return not (name or "").startswith(UNMODELLED_TABLE_PREFIXES)
    if type_ == "column":
        return (parent_names.get("table_name"), name) not in UNMODELLED_COLUMNS
    if type_ == "index":
        return name not in UNMODELLED_INDEXES
    return True


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both engines (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# SQLite needs INTEGER PRIMARY KEY for a rowid alias; PostgreSQL gets a 64-bit identity.
EventId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    """Declarative base for ORM tables; its MetaData is the application's one ``metadata``."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[str]: JSON(),
    }


metadata = Base.metadata


def load_all_tables() -> MetaData:
    """Import every module of ``TABLE_MODULES`` and return the complete ``metadata``."""
    for name in TABLE_MODULES:
        importlib.import_module(name)
    return metadata
