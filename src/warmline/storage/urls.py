"""Database URLs: the default local SQLite file, driver mapping and SQLite file paths."""

from __future__ import annotations

from pathlib import Path

import platformdirs


def default_database_url() -> str:
    """SQLite in the user's data directory, so `warmline hub` works with no setup."""
    return f"sqlite:///{Path(platformdirs.user_data_dir('warmline')) / 'warmline.db'}"


def async_database_url(url: str) -> str:
    """Map a plain database URL to the async driver SQLAlchemy needs (aiosqlite / asyncpg)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError(f"not a database URL: {url!r}")
    base = scheme.split("+", 1)[0].lower()
    if base == "sqlite":
        return f"sqlite+aiosqlite://{rest}"
    if base in ("postgresql", "postgres"):
        return f"postgresql+asyncpg://{rest}"
    raise ValueError(f"unsupported database {scheme!r}: use sqlite:/// or postgresql://")


def plain_postgres_url(url: str) -> str:
    """The libpq form of a PostgreSQL URL (for asyncpg.connect, which knows no '+driver')."""
    _scheme, _sep, rest = url.partition("://")
    return f"postgresql://{rest}"


def is_sqlite(url: str) -> bool:
    """True for any sqlite URL, with or without a driver suffix."""
    return url.split("://", 1)[0].split("+", 1)[0].lower() == "sqlite"


def sqlite_path(url: str) -> Path | None:
    """The file behind a sqlite URL, or None for in-memory databases."""
    if not is_sqlite(url):
        return None
    rest = url.split("://", 1)[1]
    if not rest.startswith("/"):
        return None
    path = rest[1:].split("?", 1)[0]
    if path in ("", ":memory:"):
        return None
    return Path(path)
