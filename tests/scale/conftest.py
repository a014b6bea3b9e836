"""Scale-out fixtures: real hub processes on one PostgreSQL, a loopback load balancer, a
private PostgreSQL cluster that a test may stop and start.

Everything runs on 127.0.0.1. Hubs are separate OS processes (`warmline hub`), so a
kill -9 is a real crash, and two of them share nothing but the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from warmline.hub import service
from warmline.hub.store.db import Database
from warmline.storage.migrate import upgrade

REQUIRE_POSTGRES = os.environ.get("WARMLINE_REQUIRE_POSTGRES") == "1"
HUB_LINE = re.compile(r"warmline hub on (http://[\d.]+:\d+)")


class HubProcess:
    """`warmline hub` in its own process, on any free port of 127.0.0.1."""

    def __init__(self, database_url: str, *, name: str = "hub", **settings: str) -> None:
        self.name = name
        env = {**os.environ, "WARMLINE_DATABASE_URL": database_url}
        for key, value in settings.items():
            env[f"WARMLINE_{key.upper()}"] = str(value)
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "warmline.cli",
                "hub",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--log-level",
                "warning",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.url: str | None = None
        self.log: list[str] = []
        self._ready = threading.Event()
        threading.Thread(target=self._read_stderr, daemon=True).start()

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.log.append(line.rstrip())
            if self.url is None and (m := HUB_LINE.search(line)):
                self.url = m.group(1)
                self._ready.set()
        self._ready.set()

    def wait_ready(self, timeout: float = 30.0) -> str:
        if not self._ready.wait(timeout) or self.url is None:
            self.kill()
            raise AssertionError(f"{self.name} did not start: {self.log[-20:]}")
        return self.url

    @property
    def port(self) -> int:
        assert self.url is not None
        return int(self.url.rsplit(":", 1)[1])

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        """kill -9: no shutdown, no goodbye to clients or the database."""
        if self.alive:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.alive:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


@contextlib.contextmanager
def hubs(database_url: str, count: int, **settings: str) -> Iterator[list[HubProcess]]:
    """Start ``count`` hub processes on one database (migrated once, before they start)."""
    procs = [HubProcess(database_url, name=f"hub{chr(65 + i)}", **settings) for i in range(count)]
    try:
        for p in procs:
            p.wait_ready()
        yield procs
    finally:
        for p in procs:
            p.stop()


@dataclass
class Seeded:
    bot: str
    agents: list[tuple[str, str]]  # (agent id, token)


async def migrate_and_seed(database_url: str, *, agents: int = 1) -> Seeded:
    """Migrate, then add one bot and ``agents`` specialists with every skill."""
    await upgrade(database_url)
    db = Database(database_url)
    try:
        async with db.write() as tx:
            bot = await service.create_bot(tx, name="load-bot")
            made = []
            for i in range(agents):
                agent, token = await service.create_agent(tx, name=f"agent{i}", skills=["all"])
                made.append((agent.id, token))
    finally:
        await db.close()
    return Seeded(bot, made)


class LoadBalancer:
    """A TCP load balancer on loopback, like nginx in front of several hubs.

    Each new client connection goes to the next backend in turn; a backend that refuses
    the connection (dead) is skipped. When a backend drops a connection, the client's is
    dropped too, so clients see exactly what they would see behind a real proxy.
    """

    def __init__(self, backends: list[tuple[str, int]]) -> None:
        self.backends = backends
        self._next = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> LoadBalancer:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._server is not None
        self._server.close()
        for w in list(self._writers):
            w.close()
        for t in list(self._tasks):
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        upstream = None
        for _ in range(len(self.backends)):
            host, port = self.backends[self._next % len(self.backends)]
            self._next += 1
            try:
                upstream = await asyncio.open_connection(host, port)
                break
            except OSError:
                continue
        if upstream is None:
            writer.close()
            self._writers.discard(writer)
            return
        up_reader, up_writer = upstream
        self._writers.add(up_writer)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (OSError, asyncio.IncompleteReadError):
                pass
            finally:
                # either side gone: drop both (a proxy does not keep half a conversation)
                for w in (dst, writer, up_writer):
                    with contextlib.suppress(Exception):
                        w.transport.abort()

        tasks = [asyncio.create_task(pipe(reader, up_writer)), asyncio.create_task(pipe(up_reader, writer))]
        self._tasks.update(tasks)
        try:
            await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            self._tasks.difference_update(tasks)
            self._writers.discard(writer)
            self._writers.discard(up_writer)


@pytest.fixture
async def balancer() -> AsyncIterator[type[LoadBalancer]]:
    yield LoadBalancer


# --- a private PostgreSQL cluster ------------------------------------------------------------


def _pg_bindir() -> Path | None:
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").exists():
            return candidate
    found = shutil.which("pg_ctl")
    return Path(found).parent if found else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateCluster:
    """A throwaway PostgreSQL server (initdb in a temp dir) this test may stop and restart."""

    def __init__(self) -> None:
        bindir = _pg_bindir()
        if bindir is None:
            raise RuntimeError("no PostgreSQL binaries (initdb, pg_ctl) found")
        self.bindir = bindir
        self.dir = Path(tempfile.mkdtemp(prefix="warmline-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self._as_postgres = os.geteuid() == 0  # initdb refuses to run as root
        if self._as_postgres:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
        conf = (
            f"port = {self.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{self.dir}'\n"
            "fsync = off\nmax_connections = 100\nshared_buffers = 64MB\n"
        )
        with open(self.data / "postgresql.conf", "a") as f:
            f.write(conf)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        cmd = [str(self.bindir / tool), *args]
        if self._as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.dir / "log"), "-w", "-t", "30", "start")

    def stop(self) -> None:
        """Fast shutdown: open sessions are cut, as when a database server restarts."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "30", "stop")

    def destroy(self) -> None:
        with contextlib.suppress(Exception):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "-t", "30", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def private_postgres() -> Iterator[PrivateCluster]:
    """A PostgreSQL cluster of this test's own (never the shared server on 5432)."""
    try:
        cluster = PrivateCluster()
        cluster.start()
    except Exception as exc:
        message = f"cannot start a private PostgreSQL cluster: {exc}"
        if isinstance(exc, subprocess.CalledProcessError):
            message += f"\n{exc.stderr.decode(errors='replace')[-2000:]}"
        if REQUIRE_POSTGRES:
            pytest.fail(message)
        pytest.skip(message)
    try:
        yield cluster
    finally:
        cluster.destroy()


def wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


class RawStream:
    """A plain SSE reader (no dedupe, no reconnect): records every event frame the hub sends."""

    def __init__(self, base_url: str, token: str, *, last_event_id: int | None = None) -> None:
        import httpx

        self.client = httpx.AsyncClient(
            base_url=base_url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=httpx.Timeout(10.0, read=60.0),
        )
        self.last_event_id = last_event_id
        self.events: list[dict] = []
        self.ended = asyncio.Event()
        self.opened = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> RawStream:
        self._task = asyncio.create_task(self._run())
        async with asyncio.timeout(10):
            await self.opened.wait()
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        await self.client.aclose()

    async def _run(self) -> None:
        import json

        headers = {} if self.last_event_id is None else {"Last-Event-ID": str(self.last_event_id)}
        try:
            async with self.client.stream("GET", "/v1/events", headers=headers) as response:
                assert response.status_code == 200, response.status_code
                self.opened.set()
                async for line in response.aiter_lines():
                    if line.startswith("data:"):
                        self.events.append(json.loads(line[5:]))
        finally:
            self.opened.set()
            self.ended.set()

    async def wait_for_id(self, event_id: int, timeout: float) -> None:
        """Until an event with id >= ``event_id`` arrived (fails with what did, at the deadline)."""
        deadline = time.monotonic() + timeout
        while not (self.events and self.events[-1]["id"] >= event_id):
            if self.ended.is_set():
                raise AssertionError(f"stream ended at {self.events[-1]['id'] if self.events else None}")
            if time.monotonic() > deadline:
                last = self.events[-1]["id"] if self.events else None
                raise AssertionError(f"event {event_id} not received within {timeout}s (last: {last})")
            await asyncio.sleep(0.01)


async def event_ids(database_url: str, after: int = 0) -> list[int]:
    """Every event id in the log after ``after``, read straight from the database."""
    from sqlalchemy import select

    from warmline.hub.store.tables import EventRow

    db = Database(database_url)
    try:
        async with db.read() as session:
            return list(
                (
                    await session.scalars(
                        select(EventRow.id).where(EventRow.id > after).order_by(EventRow.id)
                    )
                ).all()
            )
    finally:
        await db.close()
