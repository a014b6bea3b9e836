"""Event delivery into the console: buyer message POST -> row in the console's Qt model.

The hub and the bare relay each run in their own process, as in production (the
console is never inside the hub); the console's client and model run here, under qasync.

The real path: a buyer POSTs a message to the hub (SQLite or PostgreSQL), the hub
writes it and its event in one transaction, the event feed wakes the console's SSE
stream, the console parses the event and inserts the row into its TranscriptModel
(the model behind the open conversation). The clock stops in the model's
``rowsInserted`` handler.

Baseline, same run, same qasync loop, same httpx client library: the same POST to a
bare ASGI app with no database (benchmarks/bare_relay.py) relayed to an httpx-sse client
that parses the JSON. Target: hub p99 <= 3x baseline p99.

    QT_QPA_PLATFORM=offscreen python benchmarks/event_delivery.py [--messages 500]
        [--postgres postgresql://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import httpx
import qasync
from httpx_sse import aconnect_sse
from PySide6.QtWidgets import QApplication

from warmline.console.app import close_qasync_loop, install_asyncgen_hooks
from warmline.console.client.hub_client import HubClient
from warmline.console.session import Session


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def summary(name: str, values_ms: list[float]) -> dict[str, float]:
    row = {
        "p50": statistics.median(values_ms),
        "p90": pct(values_ms, 90),
        "p99": pct(values_ms, 99),
        "max": max(values_ms),
    }
    print(f"{name:<34} n={len(values_ms):<4} " + "  ".join(f"{k} {v:7.2f} ms" for k, v in row.items()))
    return row


async def wait_for(condition: Any, timeout: float = 30.0) -> None:
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0.005)


# --- servers, each in its own process (as in production: the console is not the hub) ----------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerProcess:
    """A server in a child process; ``start()`` waits until ``health_path`` answers."""

    def __init__(self, args: list[str], port: int, health_path: str) -> None:
        self.args, self.port, self.health_path = args, port, health_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> str:
        self.proc = subprocess.Popen(self.args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(url + self.health_path, timeout=1).status_code < 500:
                    return url
            except httpx.HTTPError:
                time.sleep(0.05)
        raise TimeoutError(f"{self.args} did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()


BARE_RELAY_MAIN = (
    "import sys, uvicorn; sys.path.insert(0, {here!r}); from bare_relay import BareRelay; "
    "uvicorn.run(BareRelay(), host='127.0.0.1', port={port}, log_level='warning', lifespan='off')"
)


async def baseline(messages: int) -> list[float]:
    port = free_port()
    here = str(Path(__file__).resolve().parent)
    server = ServerProcess(
        [sys.executable, "-c", BARE_RELAY_MAIN.format(here=here, port=port)], port, "/health"
    )
    url = server.start()
    arrived: dict[int, float] = {}
    connected = asyncio.Event()

    async def listen(client: httpx.AsyncClient) -> None:
        async with aconnect_sse(client, "GET", f"{url}/events") as source:
            connected.set()
            async for sse in source.aiter_sse():
                payload = json.loads(sse.data)
                arrived[payload["message"]["n"]] = time.perf_counter()

    latencies: list[float] = []
    async with (
        httpx.AsyncClient(timeout=httpx.Timeout(30, read=None)) as stream_client,
        httpx.AsyncClient(timeout=30) as client,
    ):
        listener = asyncio.ensure_future(listen(stream_client))
        await asyncio.wait_for(connected.wait(), 10)
        for n in range(messages + 20):
            start = time.perf_counter()
            response = await client.post(f"{url}/messages", json={"n": n, "body": f"bench {n}"})
            response.raise_for_status()
            await wait_for(lambda n=n: n in arrived)
            if n >= 20:  # the first 20 warm up connections and code paths
                latencies.append((arrived[n] - start) * 1000)
        listener.cancel()
        await asyncio.gather(listener, return_exceptions=True)
    server.stop()
    return latencies


# --- the real thing: hub -> console model ----------------------------------------------------


async def open_bench_handoff(hub_url: str, bot_token: str) -> dict[str, Any]:
    """One queued handoff with a new conversation (the bot's POST answer: handoff + buyer token)."""
    async with httpx.AsyncClient(base_url=hub_url, timeout=30) as bot:
        response = await bot.post(
            "/v1/handoffs",
            headers={"Authorization": f"Bearer {bot_token}"},
            json={
                "conversation": {
                    "buyer": {"name": "Bench Buyer", "company": "Bench AB"},
                    "messages": [{"author_kind": "buyer", "body": "hello"}],
                },
                "packet": {"reason": "live_data", "summary": "Benchmark handoff."},
                "required_skills": ["drives"],
            },
        )
        response.raise_for_status()
        return response.json()


async def hub_to_console(hub_url: str, agent_token: str, bot_token: str, messages: int) -> list[float]:
    created = await open_bench_handoff(hub_url, bot_token)
    handoff_id = created["handoff"]["id"]
    buyer_token = created["buyer_token"]
    conversation_id = created["handoff"]["conversation_id"]

    session = Session(HubClient(hub_url, agent_token))
    arrived: dict[str, float] = {}
    model = session.transcript

    def on_rows(_parent: Any, first: int, last: int) -> None:
        now = time.perf_counter()
        for row in range(first, last + 1):
            arrived[model.messages()[row].body] = now

    model.rowsInserted.connect(on_rows)
    session.start()
    await wait_for(lambda: session.loaded and session.stream is not None)
    session.select(handoff_id)
    await wait_for(lambda: session.current is not None and model.rowCount() >= 1)
    # let the stream connect before measuring
    await asyncio.sleep(0.5)

    latencies: list[float] = []
    post_ms: list[float] = []
    async with httpx.AsyncClient(
        base_url=hub_url, timeout=30, headers={"Authorization": f"Bearer {buyer_token}"}
    ) as buyer:
        for n in range(messages + 20):
            body = f"bench {n} {uuid.uuid4().hex[:6]}"
            start = time.perf_counter()
            response = await buyer.post(
                f"/v1/conversations/{conversation_id}/messages",
                json={"body": body},
                headers={"Idempotency-Key": uuid.uuid4().hex},
            )
            response.raise_for_status()
            answered = time.perf_counter()
            await wait_for(lambda body=body: body in arrived)
            if n >= 20:
                latencies.append((arrived[body] - start) * 1000)
                post_ms.append((answered - start) * 1000)
    await session.aclose()
    summary("  of which: the POST's own answer", post_ms)
    return latencies


def cli(*args: str) -> str:
    """Run a warmline command; its last stdout line (a token, for `agents add`/`bots add`)."""
    out = subprocess.run(
        [sys.executable, "-m", "warmline.cli", *args], check=True, capture_output=True, text=True
    )
    lines = out.stdout.strip().splitlines()
    return lines[-1] if lines else ""


def run_hub(database_url: str, messages: int, loop: asyncio.AbstractEventLoop) -> list[float]:
    cli("db", "upgrade", "--database-url", database_url)
    agent_token = cli("agents", "add", "bench", "--skills", "all", "--database-url", database_url)
    bot_token = cli("bots", "add", "bench-bot", "--database-url", database_url)
    port = free_port()
    server = ServerProcess(
        [
            sys.executable,
            "-m",
            "warmline.cli",
            "hub",
            "--port",
            str(port),
            "--database-url",
            database_url,
            "--log-level",
            "warning",
        ],
        port,
        "/v1/health",
    )
    url = server.start()
    try:
        return loop.run_until_complete(hub_to_console(url, agent_token, bot_token, messages))
    finally:
        server.stop()


def create_pg_database(admin_url: str) -> tuple[str, Any]:
    import asyncpg

    name = f"warmline_bench_{uuid.uuid4().hex[:8]}"

    async def run(sql: str) -> None:
        conn = await asyncpg.connect(admin_url)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run(f'CREATE DATABASE "{name}"'))
    return admin_url.rsplit("/", 1)[0] + f"/{name}", lambda: asyncio.run(
        run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--postgres", default=None, help="admin URL; also measure on PostgreSQL")
    parser.add_argument("--skip-sqlite", action="store_true", help="only the baseline and PostgreSQL")
    args = parser.parse_args()

    pg = create_pg_database(args.postgres) if args.postgres else None  # before the Qt loop exists
    app = QApplication.instance() or QApplication([])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    install_asyncgen_hooks(loop)
    results: dict[str, dict[str, float]] = {}
    try:
        print(f"event delivery, {args.messages} sequential messages (after 20 warm-up)")
        results["baseline"] = summary(
            "bare ASGI relay -> SSE client", loop.run_until_complete(baseline(args.messages))
        )
        if not args.skip_sqlite:
            with tempfile.TemporaryDirectory() as tmp:
                lat = run_hub(f"sqlite:///{tmp}/bench.db", args.messages, loop)
            results["sqlite"] = summary("hub (SQLite) -> console model", lat)
        if pg is not None:
            lat = run_hub(pg[0], args.messages, loop)
            results["postgres"] = summary("hub (PostgreSQL) -> console model", lat)
    finally:
        close_qasync_loop(loop)
        if pg is not None:
            pg[1]()
    base = results["baseline"]["p99"]
    for name in ("sqlite", "postgres"):
        if name in results:
            ratio = results[name]["p99"] / base
            verdict = "meets" if ratio <= 3 else "MISSES"
            print(f"{name}: p99 / baseline p99 = {ratio:.2f}x ({verdict} the 3x target)")


if __name__ == "__main__":
    main()
