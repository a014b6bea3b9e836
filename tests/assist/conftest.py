"""Assistant fixtures: a real hub over real HTTP with the demo catalog, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from hub.conftest import SSEReader, Workspace, bearer, new_conversation, open_workspace, packet
from hub.conftest import start_hub as start_hub  # re-exported for the tests of this folder
from warmline.catalog.demo import ensure_demo_catalog

__all__ = ["SSEReader", "Workspace", "bearer", "new_conversation", "packet"]


def gearbox_packet(**overrides: Any) -> dict[str, Any]:
    """A discontinued gearbox the buyer wants replaced, with constraints the catalog can check."""
    base = packet(
        reason="complexity",
        sub_reason="discontinued_part",
        summary="GX-180 is discontinued; the buyer needs a replacement that fits.",
        goal="Replace a discontinued GX-180 conveyor gearbox",
        products=[
            {
                "sku": "GX-180",
                "name": "Helical washdown gearbox",
                "family": "gearbox",
                "role": "discontinued",
            },
            {"sku": "GX-220", "name": "Helical washdown gearbox", "family": "gearbox"},
        ],
        constraints=[
            {"name": "torque", "value": ">= 230", "unit": "N·m"},
            {"name": "ip", "value": ">= IP65"},
            {"name": "colour of the paint", "value": "sky blue"},
        ],
        unresolved=[{"text": "Lead time to Rotterdam"}],
    )
    base.update(overrides)
    return base


@pytest.fixture
def hub_settings() -> dict[str, Any]:
    return {}


POSTGRES_ADMIN_URL = os.environ.get(
    "WARMLINE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def _pg(sql: str) -> None:
    async def run() -> None:
        conn = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=10)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run())


class DemoTemplates:
    """The demo catalog ingested once per test session and copied per test (ingesting takes
    ~2 s; a copy ~0.05 s on SQLite, ~0.3 s as a PostgreSQL template database)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.sqlite: Path | None = None
        self.postgres: str | None = None

    def fill(self, database_url: str) -> None:
        if database_url.startswith("sqlite"):
            if self.sqlite is None:
                path = self.folder / "demo.db"
                asyncio.run(ensure_demo_catalog(f"sqlite:///{path}"))
                with contextlib.closing(sqlite3.connect(path)) as conn:  # everything into the main file
                    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                self.sqlite = path
            shutil.copyfile(self.sqlite, database_url.removeprefix("sqlite:///"))
            return
        if self.postgres is None:
            name = f"warmline_assist_tpl_{uuid.uuid4().hex[:10]}"
            _pg(f'CREATE DATABASE "{name}"')
            self.postgres = name
            asyncio.run(ensure_demo_catalog(f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{name}"))
        target = database_url.rsplit("/", 1)[1]
        _pg(f'DROP DATABASE "{target}" WITH (FORCE)')
        _pg(f'CREATE DATABASE "{target}" TEMPLATE "{self.postgres}"')

    def close(self) -> None:
        if self.postgres is not None:
            _pg(f'DROP DATABASE IF EXISTS "{self.postgres}" WITH (FORCE)')


@pytest.fixture(scope="session")
def demo_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoTemplates]:
    templates = DemoTemplates(tmp_path_factory.mktemp("assist-demo"))
    try:
        yield templates
    finally:
        templates.close()


@pytest.fixture
def workspace(
    database_url: str, hub_settings: dict[str, Any], demo_templates: DemoTemplates
) -> Iterator[Workspace]:
    """A hub on a database holding the demo catalog, with a bot and three specialists."""
    demo_templates.fill(database_url)
    with open_workspace(database_url, **hub_settings) as ws:
        yield ws


async def open_handoff(ws: Workspace, **packet_overrides: Any) -> dict[str, Any]:
    """A handoff (inline conversation) for the gearbox case; returns HandoffCreated."""
    return await ws.handoff(conversation=new_conversation(), packet=gearbox_packet(**packet_overrides))


async def run_job(
    ws: Workspace, handoff_id: str, body: dict[str, Any], *, token: str | None = None, timeout: float = 20
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """POST a job and read the agent's event stream until it finishes; returns (job, its events)."""
    async with ws.client(token or ws.ana) as client:
        # resume from a known log position, so nothing can slip between connecting and the POST
        since = (await client.get("/v1/handoffs", params={"limit": 1})).json()["last_event_id"]
    async with ws.client(token or ws.ana) as client, SSEReader(client, last_event_id=since) as stream:
        r = await client.post(f"/v1/handoffs/{handoff_id}/assist", json=body)
        assert r.status_code == 202, r.text
        job = r.json()
        assert job["status"] == "queued"

        def finished(events: list[dict[str, Any]]) -> bool:
            return any(
                e["type"] in ("assist.completed", "assist.failed", "assist.cancelled")
                and e["data"]["job"]["id"] == job["id"]
                for e in events
            )

        events = await stream.wait_for(finished, timeout=timeout)
    mine = [e for e in events if e["type"].startswith("assist.") and e["data"]["job"]["id"] == job["id"]]
    notes = [
        e
        for e in events
        if e["type"] == "message.created" and e["data"]["message"].get("assist_job_id") == job["id"]
    ]
    return mine[-1]["data"]["job"], mine + notes


def client(url: str, token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=url, headers=bearer(token), timeout=30)


# --- a tiny OpenAI-compatible chat server (an external service, so faking it is fine) ---------


class FakeLLM:
    """``POST /chat/completions`` on loopback, in a thread; ``mode`` says how it answers.

    ok: "Hello there. " + the draft (facts kept); fail: HTTP 500; drop: a reply with no numbers;
    hang: waits until ``release()`` (or the server stops) before answering like ok.
    """

    def __init__(self) -> None:
        self.mode = "ok"
        self.requests: list[dict[str, Any]] = []
        self._release = threading.Event()
        self.waiting = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                return None

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                fake.requests.append(body)
                if fake.mode == "fail" or self.path != "/v1/chat/completions":
                    self._send(500, {"error": "model overloaded"})
                    return
                if fake.mode == "hang":
                    fake.waiting.set()
                    fake._release.wait(30)
                draft = body["messages"][-1]["content"].split("Draft:\n", 1)[-1]
                text = "A reply with no figures at all." if fake.mode == "drop" else f"Hello there. {draft}"
                self._send(200, {"choices": [{"message": {"role": "assistant", "content": text}}]})

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                with contextlib.suppress(OSError):
                    self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self._thread = threading.Thread(target=self.server.serve_forever, name="fake-llm", daemon=True)
        self._thread.start()

    def release(self) -> None:
        self._release.set()

    def close(self) -> None:
        self.release()
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)


@pytest.fixture
def fake_llm(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeLLM]:
    """The fake model, configured for hubs started after this fixture (WARMLINE_LLM_*)."""
    llm = FakeLLM()
    monkeypatch.setenv("WARMLINE_LLM_BASE_URL", llm.url)
    monkeypatch.setenv("WARMLINE_LLM_MODEL", "fake-1")
    monkeypatch.setenv("WARMLINE_LLM_TIMEOUT_SECONDS", "20")
    try:
        yield llm
    finally:
        llm.close()
