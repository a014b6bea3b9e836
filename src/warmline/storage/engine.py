"""Engine creation for SQLite and PostgreSQL (pragmas, pool sizing, checkout checks) and
telling "the database is unreachable" apart from other errors."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from warmline.storage.urls import async_database_url, is_sqlite

CONNECT_TIMEOUT_SECONDS = 5
POOL_SIZE = 20
POOL_OVERFLOW = 5
# A pooled PostgreSQL connection idle longer than this is pinged before it is handed out.
IDLE_PING_SECONDS = 10.0
# SQLite: the WAL size (pages) at which a commit checkpoints inline; the hub normally does it
# from a background thread (warmline.hub.store.db.Database), this is only the fallback.
WAL_FALLBACK_PAGES = 20_000


def create_engine(database_url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine for a plain URL; SQLite gets WAL, a busy timeout and foreign keys."""
    url = async_database_url(database_url)
    if is_sqlite(database_url):
        engine = create_async_engine(url, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=10000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            # The hub checkpoints the WAL from a thread of its own (Database.start): the
            # commit that crossed SQLite's default 1,000 pages did it inline, holding the one
            # writer for tens of ms. This limit is only the fallback if that falls behind.
            cur.execute(f"PRAGMA wal_autocheckpoint={WAL_FALLBACK_PAGES}")
            cur.close()

        return engine
    # Connections are kept, not churned: with pool_size 5 + overflow 10, 80 concurrent
    # POSTs made a hub open and close ~45 connections a second (each a TCP connect, auth,
    # type introspection and a cold statement cache). At most POOL_SIZE + POOL_OVERFLOW
    # (+1 LISTEN) connections per hub process; requests beyond that wait for one (up to
    # pool_timeout, then 503). Size max_connections for it (docs/deploy.md).
    kwargs.setdefault("pool_size", POOL_SIZE)
    kwargs.setdefault("max_overflow", POOL_OVERFLOW)
    # A server restart leaves dead connections in the pool; the checkout check below finds
    # them (SQLAlchemy's pool_pre_ping costs three round trips per checkout on asyncpg:
    # BEGIN, ';', ROLLBACK -- six of a message's fifteen).
    pre_ping = kwargs.pop("pool_pre_ping", None)
    kwargs.setdefault("pool_timeout", 10)  # all connections busy: refuse (503) rather than queue forever
    # asyncpg waits 60 s for a server that does not answer; a request should fail sooner
    kwargs.setdefault("connect_args", {"timeout": CONNECT_TIMEOUT_SECONDS})
    engine = create_async_engine(url, pool_pre_ping=bool(pre_ping), **kwargs)
    if not pre_ping:
        _check_at_checkout(engine)
    return engine


def _check_at_checkout(engine: AsyncEngine) -> None:
    """Hand out only live connections, at no round trip for one used in the last few seconds.

    A connection whose socket asyncpg has seen close (a server restart or shutdown closes
    every backend's socket; the pool's connections are idle on the running loop, so asyncpg
    notices at once) is replaced without a round trip. One idle for more than
    ``IDLE_PING_SECONDS`` (where a silently dropped connection -- a firewall, a dead peer
    -- hides) is pinged first. A dead one raises DisconnectionError, which makes the pool
    discard it and try another (or connect anew: 503 while the server is down). A
    connection that dies between this check and its first statement fails that request
    with the driver's connection error (503 database_unavailable, see
    ``database_unavailable``) and is invalidated, as it could after a pre-ping too."""
    import time

    from sqlalchemy import exc as sa_exc

    @event.listens_for(engine.sync_engine, "connect")
    def _connected(_dbapi_conn: Any, record: Any) -> None:
        record.info["warmline_used"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkin")
    def _returned(_dbapi_conn: Any, record: Any) -> None:
        if record is not None:
            record.info["warmline_used"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        driver = getattr(dbapi_conn, "_connection", None)  # the asyncpg connection
        if driver is not None and driver.is_closed():
            raise sa_exc.DisconnectionError("connection closed by the server")
        if driver is not None and driver.is_in_transaction():
            # a script that opened its own transaction was cut off before its ROLLBACK
            # (e.g. a cancelled request): never hand out a connection mid-transaction
            raise sa_exc.DisconnectionError("connection returned inside a transaction")
        if time.monotonic() - record.info.get("warmline_used", 0.0) > IDLE_PING_SECONDS:
            try:
                dbapi_conn.ping()
            except Exception as exc:
                raise sa_exc.DisconnectionError(f"ping failed: {exc}") from exc


def database_error_types() -> tuple[type[Exception], ...]:
    """Exception classes that may mean the database is unreachable (see database_unavailable)."""
    import asyncpg
    from sqlalchemy.exc import SQLAlchemyError

    return (OSError, SQLAlchemyError, asyncpg.PostgresError, asyncpg.InterfaceError)


def database_unavailable(exc: BaseException) -> bool:
    """True when ``exc`` means "the database cannot be reached right now" (down, restarting,
    connection cut, pool exhausted), as opposed to a bug or a refused statement."""
    import errno
    import socket

    import asyncpg
    from sqlalchemy import exc as sa_exc

    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, ConnectionError | TimeoutError | socket.gaierror | sa_exc.TimeoutError):
            return True  # refused, reset, timed out, unknown host; pool timeout
        if isinstance(e, OSError) and e.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
            return True
        if isinstance(e, sa_exc.DBAPIError) and e.connection_invalidated:
            return True
        if isinstance(
            e,
            asyncpg.PostgresConnectionError
            | asyncpg.exceptions.OperatorInterventionError  # shutting down / starting up
            | asyncpg.exceptions.TooManyConnectionsError,
        ):
            return True
        if isinstance(e, asyncpg.InterfaceError) and "closed" in str(e):
            return True
        todo.extend([getattr(e, "orig", None), e.__cause__, e.__context__])
    return False
