"""Hot-path statements: compiled once, and on SQLite run in one thread round trip.

The seam: ``FastStatement.rows`` and ``run_batch`` are the only places that bypass
SQLAlchemy's execution (result objects, the aiosqlite adapter's cursor) to call the
aiosqlite driver directly; everything else goes through ``session.execute``. Justified by
benchmarks/hub_post_cpu.py (server CPU per delivered message) and benchmarks/load.py
(docs/benchmarks.md: "Event delivery", "Hub under concurrent load"). Off -- every statement
through ``session.execute``, one at a time -- for sessions whose ``info[FAST_PATHS_KEY]``
is False: a hub started with ``--no-fast-paths`` or ``WARMLINE_FAST_PATHS=0``
(``Database(fast_paths=False)``). tests/hub/test_fast_path.py compares the two.

SQLAlchemy's aiosqlite adapter hands every statement to aiosqlite's worker thread four
times (open a cursor, execute, fetch, close). Each hand-off wakes that thread and the
event loop again and trades the GIL: about 60 µs of CPU on an idle machine, much more
under load, and it was most of the cost of a message POST. A ``FastStatement`` compiles
its Core statement once per dialect with SQLAlchemy's own compiler and type processors
(the same SQL and the same stored values as ``session.execute``) and, on SQLite, runs it
with aiosqlite's ``execute_fetchall``: one hand-off. It runs on the session's own
connection, inside the session's transaction, and raises SQLAlchemy's exception types
(``IntegrityError`` and friends), so callers cannot tell the difference. Other databases
go through ``session.execute`` (asyncpg has no worker thread to save).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.expression import Executable

_Processor = Callable[[Any], Any] | None

# Session.info key: False turns this module's driver shortcuts off for that session.
FAST_PATHS_KEY = "warmline_fast_paths"


def fast_session(session: AsyncSession) -> bool:
    """Whether ``session`` may take the shortcuts (SQLite, and fast paths not turned off)."""
    bind = session.bind
    return bind is not None and bind.dialect.name == "sqlite" and session.info.get(FAST_PATHS_KEY, True)


class _Compiled:
    __slots__ = ("binds", "columns", "sql")

    def __init__(
        self,
        sql: str,
        binds: list[tuple[str, tuple[Any] | None, _Processor]],
        columns: list[tuple[str, _Processor]],
    ):
        self.sql = sql
        self.binds = binds
        self.columns = columns


class FastRow(tuple):
    """A result row: a tuple whose columns are also attributes (like SQLAlchemy's ``Row``)."""

    __slots__ = ()
    _fields: tuple[str, ...] = ()

    def __getattr__(self, name: str) -> Any:
        try:
            return self[self._fields.index(name)]
        except ValueError:
            raise AttributeError(name) from None


class FastStatement:
    """A Core statement (with named ``bindparam``s or insert columns) for the hot path."""

    def __init__(self, statement: Executable, *, column_keys: Sequence[str] | None = None) -> None:
        self.statement = statement
        self.column_keys = list(column_keys) if column_keys is not None else None
        self._sqlite: _Compiled | None = None
        self._row_type: type[FastRow] | None = None

    def _compile_sqlite(self, dialect: Dialect) -> _Compiled:
        statement: Any = self.statement  # (an insert/update/select: compile(), exported_columns)
        compiled = statement.compile(dialect=dialect, column_keys=self.column_keys)
        binds = []
        for name in compiled.positiontup or ():
            bind = compiled.binds[name]
            # a value the statement carries itself (e.g. the OFFSET 0 SQLite adds after a LIMIT)
            fixed = None if bind.required or bind.value is None else (bind.effective_value,)
            binds.append((name, fixed, bind.type.dialect_impl(dialect).bind_processor(dialect)))
        columns = []
        for column in statement.exported_columns:  # RETURNING or SELECT columns
            columns.append((column.key, column.type.dialect_impl(dialect).result_processor(dialect, None)))
        self._row_type = type("Row", (FastRow,), {"__slots__": (), "_fields": tuple(c for c, _ in columns)})
        return _Compiled(compiled.string, binds, columns)

    def _bind(self, dialect: Dialect, params: Mapping[str, Any]) -> tuple[_Compiled, list[Any]]:
        """SQLite: the compiled statement and its positional arguments for ``params``."""
        compiled = self._sqlite or self._compile_sqlite(dialect)
        self._sqlite = compiled
        args = []
        for name, fixed, proc in compiled.binds:
            value = params[name] if fixed is None or name in params else fixed[0]
            args.append(value if proc is None else proc(value))
        return compiled, args

    async def rows(self, session: AsyncSession, params: Mapping[str, Any]) -> list[Any]:
        """Run with ``params``; the result rows (empty for statements that return none)."""
        if not fast_session(session):
            result: Any = await session.execute(self.statement, dict(params))  # (a CursorResult)
            return list(result.all()) if result.returns_rows else []
        assert session.bind is not None
        dialect = session.bind.dialect
        compiled, args = self._bind(dialect, params)
        driver = await _driver_connection(session)
        try:
            raw = await driver.execute_fetchall(compiled.sql, args)
        except sqlite3.Error as error:
            raise sa_exc.DBAPIError.instance(
                compiled.sql, args, error, sqlite3.Error, dialect=dialect
            ) from error
        return self._decode(compiled, raw)

    def _decode(self, compiled: _Compiled, raw: Sequence[Any]) -> list[Any]:
        if not compiled.columns:
            return []
        row_type = self._row_type
        assert row_type is not None
        procs = [proc for _, proc in compiled.columns]
        return [
            row_type(value if proc is None else proc(value) for proc, value in zip(procs, row, strict=True))
            for row in raw
        ]

    async def write(self, session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run once per parameter set: one row in one round trip, several as one executemany."""
        if len(rows) == 1:
            await self.rows(session, rows[0])
        elif rows:
            await session.execute(self.statement, [dict(r) for r in rows])

    async def first(self, session: AsyncSession, params: Mapping[str, Any]) -> Any | None:
        found = await self.rows(session, params)
        return found[0] if found else None


async def run_batch(
    session: AsyncSession, items: Sequence[tuple[FastStatement, Mapping[str, Any]]]
) -> list[list[Any]]:
    """SQLite: run several statements in order in ONE thread round trip; each one's rows.

    For the writes a transaction queues to the end (``Tx.insert_at_commit``): the message,
    the idempotency record and the event go to aiosqlite's worker together instead of one
    hand-off each. Inside the session's transaction, with SQLAlchemy's exception types, as
    ``FastStatement.rows`` (the first failing statement raises; the caller rolls back)."""
    if not items:
        return []
    if not fast_session(session):  # one statement at a time, through SQLAlchemy
        return [await statement.rows(session, params) for statement, params in items]
    assert session.bind is not None
    dialect = session.bind.dialect
    prepared = [(statement, *statement._bind(dialect, params)) for statement, params in items]
    driver = await _driver_connection(session)
    failed: list[tuple[str, list[Any]]] = []

    def run() -> list[list[Any]]:
        conn = driver._conn  # on aiosqlite's worker thread: the plain sqlite3 connection
        out = []
        for _statement, compiled, args in prepared:
            failed[:] = [(compiled.sql, args)]
            out.append(conn.execute(compiled.sql, args).fetchall())
        return out

    try:
        raw = await driver._execute(run)
    except sqlite3.Error as error:
        sql, args = failed[0] if failed else ("", [])
        raise sa_exc.DBAPIError.instance(sql, args, error, sqlite3.Error, dialect=dialect) from error
    return [stmt._decode(compiled, rows) for (stmt, compiled, _), rows in zip(prepared, raw, strict=True)]


async def _driver_connection(session: AsyncSession) -> Any:
    """The aiosqlite connection under the session's current transaction (cached per transaction)."""
    transaction = session.sync_session.get_transaction()
    cached = session.info.get("_fast_driver")
    if cached is not None and transaction is not None and cached[0] is transaction:
        return cached[1]
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    session.info["_fast_driver"] = (session.sync_session.get_transaction(), driver)
    return driver
