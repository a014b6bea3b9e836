"""``warmline backup FILE`` and ``warmline restore FILE``.

SQLite: the backup is SQLite's online backup API in one step -- a consistent snapshot
(one read transaction) taken while the hub keeps writing (WAL: writers are not blocked),
checked with ``PRAGMA integrity_check`` and then moved into place. A restore (hub
stopped) checks the file, copies it to a temporary file beside the database, removes the
old WAL and swaps it in atomically, then migrates it to the current schema.

PostgreSQL: ``pg_dump --format=custom`` and ``pg_restore --clean --if-exists`` (the
client tools must be on PATH and match the server's major version; docs/operations.md).

After either restore the event-id sequence is checked and moved ``RESTORE_GAP`` past the
newest restored event: new events continue after the restored ones, and a client whose
cursor is in the gap (it saw events the backup lacks) gets a ``reset`` and reloads
(``hub_state.restore_void``, read by the hub at start). Both are audited.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text

from warmline.hub.lifecycle import audit, state
from warmline.hub.store.db import Database
from warmline.hub.store.tables import EventRow
from warmline.storage.urls import is_sqlite, sqlite_path

RESTORE_GAP = 1_000_000_000
RESTORE_VOID = "restore_void"


class BackupError(Exception):
    """A backup or restore that cannot be done (said why)."""


def _sqlite_file(url: str) -> Path:
    path = sqlite_path(url)
    if path is None:
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(path)


def _check(conn: sqlite3.Connection, what: str) -> None:
    try:
        _check_tables(conn, what)
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{what} is not a Warmline database ({exc})") from None


def _check_tables(conn: sqlite3.Connection, what: str) -> None:
    result = conn.execute("PRAGMA integrity_check").fetchone()
    if not result or result[0] != "ok":
        raise BackupError(f"{what} failed its integrity check: {result}")
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not {"alembic_version", "events", "messages"} <= tables:
        raise BackupError(f"{what} is not a Warmline database")


def backup_sqlite(url: str, target: Path) -> int:
    """Snapshot the database into ``target``; its size in bytes."""
    source = _sqlite_file(url)
    if not source.exists():
        raise BackupError(f"no database at {source}")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(partial)
    try:
        src.backup(dst)  # pages=-1: one step, one read transaction: a consistent snapshot
        dst.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file
        _check(dst, "the backup")
    finally:
        dst.close()
        src.close()
    os.replace(partial, target)
    return target.stat().st_size


def restore_sqlite(url: str, source: Path) -> None:
    """Replace the database with the backup ``source`` (the hub must be stopped)."""
    target = _sqlite_file(url)
    if not source.exists():
        raise BackupError(f"no backup at {source}")
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        _check(src, str(source))
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = target.with_name(target.name + ".restoring")
        staging.unlink(missing_ok=True)
        dst = sqlite3.connect(staging)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()
    for suffix in ("-wal", "-shm"):  # the old database's log must not be replayed onto the new one
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    os.replace(staging, target)


def _pg_tool(name: str) -> str:
    tool = shutil.which(name)
    if tool is None:
        raise BackupError(f"{name} not found on PATH (install the PostgreSQL client tools)")
    return tool


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed: {done.stderr.strip()[-2000:]}")


def backup_postgres(url: str, target: Path) -> int:
    target.parent.mkdir(parents=True, exist_ok=True)
    _run([_pg_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={target}", url])
    return target.stat().st_size


def restore_postgres(url: str, source: Path) -> None:
    if not source.exists():
        raise BackupError(f"no backup at {source}")
    _run(
        [
            _pg_tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            f"--dbname={url}",
            str(source),
        ]
    )


def backup(url: str, target: Path) -> int:
    return backup_sqlite(url, target) if is_sqlite(url) else backup_postgres(url, target)


def restore(url: str, source: Path) -> None:
    if is_sqlite(url):
        restore_sqlite(url, source)
    else:
        restore_postgres(url, source)


async def after_restore(db: Database, *, source: str, actor: str) -> dict[str, Any]:
    """Move the event-id sequence past the restored events (with a gap), remember the gap,
    and audit the restore; what was found and set."""
    async with db.write() as tx:
        session = tx.session
        newest = int(await session.scalar(select(func.coalesce(func.max(EventRow.id), 0))) or 0)
        next_id = newest + RESTORE_GAP
        if db.sqlite:
            changed = await session.execute(
                text("UPDATE sqlite_sequence SET seq = :v WHERE name = 'events'"), {"v": next_id - 1}
            )
            if not changed.rowcount:  # type: ignore[attr-defined]
                await session.execute(
                    text("INSERT INTO sqlite_sequence (name, seq) VALUES ('events', :v)"), {"v": next_id - 1}
                )
        else:
            await session.execute(
                text("SELECT setval(pg_get_serial_sequence('events', 'id'), :v)"), {"v": next_id - 1}
            )
        await state.put(session, RESTORE_VOID, json.dumps([newest, next_id]))
        detail = {"source": source, "newest_event_id": newest, "next_event_id": next_id}
        await audit.record(
            session, actor=actor, action="restore", target=db.url.split("@")[-1], detail=detail
        )
    return detail


async def restore_void(db: Database) -> tuple[int, int] | None:
    """Event ids (lo, hi) that never exist after a restore; None when no restore happened."""
    with contextlib.suppress(Exception):
        async with db.read() as session:
            value = await state.get(session, RESTORE_VOID)
        if value:
            lo, hi = json.loads(value)
            return int(lo), int(hi)
    return None
