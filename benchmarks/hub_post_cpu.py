"""Server CPU per delivered message: the hub vs the bare relay, counted by the kernel.

Wall-clock latency on a shared machine moves with everyone else's load; the CPU time a
server process spends per message moves far less. This runs the same workload as
``event_delivery.py`` without Qt: one SSE listener, then sequential POSTs (each waits for
its event on the stream). Around the timed POSTs it reads the server's on-CPU time from
``/proc/<pid>/task/*/schedstat`` (every thread: aiosqlite's worker included) and prints
CPU per message beside the bare relay's in the same run, plus client-side wall p50/p99.

    python benchmarks/hub_post_cpu.py [--messages 500] [--postgres postgresql://...]
        [--profile DIR]   # also write a cProfile of each hub run to DIR (slower; for reading)
        [--count-round-trips]  # PostgreSQL: hub <-> server through a counting TCP proxy
        [--plain-too]     # also a hub started with --no-fast-paths (what the fast paths save)

With ``--count-round-trips`` the PostgreSQL hub reaches the server through a loopback
proxy (in a thread of this process) that counts the hub's sends: asyncpg waits for the
answer to each, so sends per message = round trips per message (load-independent; the
proxy adds latency, so that run's wall figures are not comparable).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from httpx_sse import aconnect_sse

sys.path.insert(0, str(Path(__file__).resolve().parent))
from event_delivery import (  # sibling script
    BARE_RELAY_MAIN,
    ServerProcess,
    cli,
    create_pg_database,
    free_port,
    open_bench_handoff,
    pct,
)


class RoundTripProxy:
    """A loopback TCP proxy to PostgreSQL counting client -> server sends (round trips)."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.sends = 0
        self.connections = 0
        self.port = free_port()
        self._loop = asyncio.new_event_loop()
        started = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(started,), daemon=True)
        self._thread.start()
        started.wait(10)

    def _run(self, started: threading.Event) -> None:
        asyncio.set_event_loop(self._loop)

        async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, count: bool) -> None:
            try:
                while data := await reader.read(65536):
                    if count:
                        self.sends += 1
                    writer.write(data)
                    await writer.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                writer.close()

        async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
            self.connections += 1
            server_r, server_w = await asyncio.open_connection(*self.target)
            await asyncio.gather(pipe(client_r, server_w, True), pipe(server_r, client_w, False))

        async def serve() -> None:
            server = await asyncio.start_server(handle, "127.0.0.1", self.port)
            started.set()
            async with server:
                await asyncio.Event().wait()

        with contextlib.suppress(RuntimeError):
            self._loop.run_until_complete(serve())

    def url_for(self, database_url: str) -> str:
        """``database_url`` with host:port replaced by the proxy's."""
        scheme, _, rest = database_url.partition("://")
        creds, _, hostpart = rest.rpartition("@")
        _host, _, tail = hostpart.partition("/")
        return f"{scheme}://{creds + '@' if creds else ''}127.0.0.1:{self.port}/{tail}"

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)


PROXY: RoundTripProxy | None = None


def cpu_ns(pid: int) -> int:
    """Nanoseconds the process's threads (live ones) have spent on a CPU."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            total += int((task / "schedstat").read_text().split()[0])
    return total


async def drive(
    pid: int,
    post: Any,
    stream: Any,
    messages: int,
) -> dict[str, float]:
    """Warm up 20, then time ``messages`` POSTs, each until its event arrives on ``stream``."""
    arrived: dict[str, float] = {}
    connected = asyncio.Event()

    async def listen() -> None:
        async with stream() as source:
            connected.set()
            async for sse in source.aiter_sse():
                if sse.event == "message.created":
                    arrived[sse_key(json.loads(sse.data))] = time.perf_counter()

    listener = asyncio.ensure_future(listen())
    await asyncio.wait_for(connected.wait(), 10)
    await asyncio.sleep(0.3)
    wall: list[float] = []
    after_answer: list[float] = []  # answer -> event (0 when the event beat the answer)
    cpu_start = sends_start = 0
    for n in range(messages + 20):
        if n == 20:
            cpu_start = cpu_ns(pid)
            sends_start = PROXY.sends if PROXY is not None else 0
        key = f"bench {n} {uuid.uuid4().hex[:6]}"
        start = time.perf_counter()
        await post(n, key)
        answered = time.perf_counter()
        while key not in arrived:
            await asyncio.sleep(0.0005)
        if n >= 20:
            wall.append((arrived[key] - start) * 1000)
            after_answer.append((arrived[key] - answered) * 1000)
    cpu = cpu_ns(pid) - cpu_start
    sends = (PROXY.sends - sends_start) if PROXY is not None else 0
    listener.cancel()
    await asyncio.gather(listener, return_exceptions=True)
    return {
        "cpu_us": cpu / messages / 1000,
        "p50": statistics.median(wall),
        "p99": pct(wall, 99),
        "after": statistics.median(max(0.0, a) for a in after_answer),
        "round_trips": sends / messages,
    }


def sse_key(payload: dict[str, Any]) -> str:
    message = payload.get("message") or payload.get("data", {}).get("message", {})
    return str(message.get("body"))


async def bare(messages: int) -> dict[str, float]:
    port = free_port()
    here = str(Path(__file__).resolve().parent)
    main = BARE_RELAY_MAIN.format(here=here, port=port)
    server = ServerProcess([sys.executable, "-c", main], port, "/health")
    url = server.start()
    try:
        async with (
            httpx.AsyncClient(timeout=httpx.Timeout(30, read=None)) as sc,
            httpx.AsyncClient(timeout=30) as client,
        ):

            async def post(n: int, key: str) -> None:
                (await client.post(f"{url}/messages", json={"n": n, "body": key})).raise_for_status()

            assert server.proc is not None
            events = lambda: aconnect_sse(sc, "GET", f"{url}/events")  # noqa: E731
            return await drive(server.proc.pid, post, events, messages)
    finally:
        server.stop()


async def hub_run(url: str, pid: int, agent: str, bot: str, messages: int) -> dict[str, float]:
    created = await open_bench_handoff(url, bot)
    conversation_id = created["handoff"]["conversation_id"]
    buyer = created["buyer_token"]
    async with (
        httpx.AsyncClient(base_url=url, timeout=httpx.Timeout(30, read=None)) as sc,
        httpx.AsyncClient(base_url=url, timeout=30, headers={"Authorization": f"Bearer {buyer}"}) as client,
    ):

        async def post(_n: int, key: str) -> None:
            r = await client.post(
                f"/v1/conversations/{conversation_id}/messages",
                json={"body": key},
                headers={"Idempotency-Key": uuid.uuid4().hex},
            )
            r.raise_for_status()

        def stream() -> Any:
            return aconnect_sse(sc, "GET", "/v1/events", headers={"Authorization": f"Bearer {agent}"})

        return await drive(pid, post, stream, messages)


def hub(
    database_url: str, messages: int, profile: Path | None, label: str, *, plain: bool = False
) -> dict[str, float]:
    cli("db", "upgrade", "--database-url", database_url)
    agent = cli("agents", "add", "bench", "--skills", "all", "--database-url", database_url)
    bot = cli("bots", "add", "bench-bot", "--database-url", database_url)
    port = free_port()
    prefix = [sys.executable]
    if profile is not None:
        prefix += ["-m", "cProfile", "-o", str(profile / f"hub-{label}.prof")]
    hub_url = PROXY.url_for(database_url) if PROXY is not None and label == "postgres" else database_url
    args = [*prefix, "-m", "warmline.cli", "hub", "--port", str(port), "--database-url", hub_url]
    if plain:
        args.append("--no-fast-paths")
    server = ServerProcess([*args, "--log-level", "warning"], port, "/v1/health")
    url = server.start()
    try:
        assert server.proc is not None
        return asyncio.run(hub_run(url, server.proc.pid, agent, bot, messages))
    finally:
        server.stop()


def show(name: str, row: dict[str, float], base: dict[str, float] | None = None) -> None:
    ratio = f"  ({row['cpu_us'] / base['cpu_us']:.1f}x bare)" if base else ""
    print(
        f"{name:<22} server CPU/message {row['cpu_us']:7.0f} us{ratio:<14}"
        f" wall p50 {row['p50']:6.2f} ms  p99 {row['p99']:6.2f} ms"
        f"  (event after the answer, p50 {row['after']:5.2f} ms)"
        + (f"  round trips/message {row['round_trips']:.2f}" if row.get("round_trips") else "")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--postgres", default=None, help="admin URL; also measure on PostgreSQL")
    parser.add_argument("--profile", type=Path, default=None, help="write hub cProfiles here")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-bare", action="store_true")
    parser.add_argument("--count-round-trips", action="store_true", help="PostgreSQL via a counting proxy")
    parser.add_argument("--plain-too", action="store_true", help="also measure a hub with --no-fast-paths")
    args = parser.parse_args()
    base = None if args.skip_bare else asyncio.run(bare(args.messages))
    if base is not None:
        show("bare relay", base)
    if not args.skip_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            show("hub (SQLite)", hub(f"sqlite:///{tmp}/b.db", args.messages, args.profile, "sqlite"), base)
            if args.plain_too:
                plain = hub(f"sqlite:///{tmp}/p.db", args.messages, None, "sqlite-plain", plain=True)
                show("hub plain (SQLite)", plain, base)
    if args.postgres:
        global PROXY
        url, drop = create_pg_database(args.postgres)
        if args.count_round_trips:
            hostpart = url.partition("://")[2].rpartition("@")[2].partition("/")[0]
            host, _, port = hostpart.partition(":")
            PROXY = RoundTripProxy(host or "127.0.0.1", int(port or 5432))
        try:
            show("hub (PostgreSQL)", hub(url, args.messages, args.profile, "postgres"), base)
            if args.plain_too:
                plain_url, drop_plain = create_pg_database(args.postgres)
                try:
                    plain = hub(plain_url, args.messages, None, "postgres", plain=True)
                    show("hub plain (PostgreSQL)", plain, base)
                finally:
                    drop_plain()
        finally:
            if PROXY is not None:
                PROXY.stop()
            drop()


if __name__ == "__main__":
    main()
