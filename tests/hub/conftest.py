"""Hub fixtures: a real hub over real HTTP on loopback, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from httpx_sse import aconnect_sse

from warmline.hub.embedded import EmbeddedHub
from warmline.hub.settings import HubSettings
from warmline.hub.store.db import Database
from warmline.storage.migrate import upgrade


def packet(**overrides: Any) -> dict[str, Any]:
    """A valid handoff packet (gearbox quote) with any field overridden."""
    base: dict[str, Any] = {
        "reason": "purchase_intent",
        "sub_reason": "live_pricing",
        "summary": "Pricing and lead time for GX-220 need live account data.",
        "goal": "Replace a conveyor gearbox",
        "product_family": "gearbox",
        "products": [{"sku": "GX-220", "name": "GX-220 helical gearbox", "family": "gearbox"}],
    }
    base.update(overrides)
    return base


def new_conversation(company: str = "Acme Conveyors", *, messages: int = 2) -> dict[str, Any]:
    return {
        "buyer": {"name": "Bo Buyer", "company": company, "email": "bo@example.com"},
        "subject": "gearbox replacement",
        "messages": [
            {"author_kind": "buyer" if i % 2 == 0 else "ai", "body": f"turn {i + 1}"} for i in range(messages)
        ],
    }


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Workspace:
    """A running hub with a bot and three specialists."""

    hub: EmbeddedHub
    url: str
    bot: str
    ana: str  # drives + quotes
    ben: str  # all skills
    cy: str  # pumps only
    ana_id: str
    ben_id: str

    def client(self, token: str | None = None, **kwargs: Any) -> httpx.AsyncClient:
        headers = bearer(token) if token else {}
        return httpx.AsyncClient(base_url=self.url, headers=headers, timeout=30, **kwargs)

    async def handoff(self, client: httpx.AsyncClient | None = None, **body: Any) -> dict[str, Any]:
        """Create a handoff with an inline conversation as the bot; returns HandoffCreated."""
        payload = {"conversation": new_conversation(), "packet": packet()}
        payload.update(body)
        async with self.client(self.bot) as c:
            r = await c.post("/v1/handoffs", json=payload)
        assert r.status_code == 201, r.text
        return r.json()


async def open_db(url: str) -> Database:
    """A migrated database, started without LISTEN (for tests below the HTTP layer)."""
    await upgrade(url)
    db = Database(url)
    await db.start(listen=False)
    return db


@contextlib.contextmanager
def hub_process(database_url: str, *args: str) -> Iterator[tuple[subprocess.Popen[str], str, list[str]]]:
    """`warmline hub --port 0 ARGS` in a child process: yields it, its base URL and the stderr
    lines read up to the "warmline hub on" line (and the one after it, if any is written)."""
    command = [sys.executable, "-m", "warmline.cli", "hub", "--port", "0", "--database-url", database_url]
    proc = subprocess.Popen([*command, "--log-level", "warning", *args], stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        lines: list[str] = []
        deadline = time.monotonic() + 30
        while not lines or "warmline hub on" not in lines[-1]:
            assert time.monotonic() < deadline and proc.poll() is None, lines
            lines.append(proc.stderr.readline())
        yield proc, lines[-1].split("warmline hub on ", 1)[1].split()[0], lines
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(15)


def start_hub(database_url: str, **settings: Any) -> EmbeddedHub:
    hub = EmbeddedHub(HubSettings(database_url=database_url, host="127.0.0.1", port=0, **settings))
    hub.start()
    return hub


@pytest.fixture
def hub_settings() -> dict[str, Any]:
    """Override in a module to start the hub with other settings."""
    return {}


@contextlib.contextmanager
def open_workspace(database_url: str, **hub_settings: Any) -> Iterator[Workspace]:
    """A running hub with a bot and three specialists (ana: drives+quotes, ben: all, cy: pumps)."""
    hub = start_hub(database_url, **hub_settings)
    try:
        ana, ana_token = hub.create_agent("ana", ["drives", "quotes"], "Ana Petrova")
        ben, ben_token = hub.create_agent("ben", ["all"], "Ben Okafor")
        _cy, cy_token = hub.create_agent("cy", ["pumps"])
        bot = hub.create_bot("product-ai")
        assert hub.base_url is not None
        yield Workspace(hub, hub.base_url, bot, ana_token, ben_token, cy_token, ana.id, ben.id)
    finally:
        hub.stop()


@pytest.fixture
def workspace(database_url: str, hub_settings: dict[str, Any]) -> Iterator[Workspace]:
    with open_workspace(database_url, **hub_settings) as ws:
        yield ws


class SSEReader:
    """Reads an event stream in the background so tests can wait for events with a deadline."""

    def __init__(self, client: httpx.AsyncClient, *, last_event_id: int | None = None) -> None:
        self.client = client
        self.last_event_id = last_event_id
        self.events: list[dict[str, Any]] = []
        self.comments = 0
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.opened = asyncio.Event()
        self.ended = asyncio.Event()
        self.status: int | None = None

    async def __aenter__(self) -> SSEReader:
        self._task = asyncio.create_task(self._run())
        async with asyncio.timeout(10):
            await self.opened.wait()
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _run(self) -> None:
        headers = {} if self.last_event_id is None else {"Last-Event-ID": str(self.last_event_id)}
        try:
            async with aconnect_sse(self.client, "GET", "/v1/events", headers=headers) as source:
                self.status = source.response.status_code
                self.opened.set()
                async for line in source.response.aiter_lines():
                    if line.startswith(":"):
                        self.comments += 1
                    elif line.startswith("data:"):
                        self.events.append(json.loads(line[5:]))
                    self._changed.set()
        finally:
            self.opened.set()
            self.ended.set()
            self._changed.set()

    async def wait_for(self, predicate: Any, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Wait until ``predicate(events)`` holds; fail with what arrived if the deadline passes."""
        try:
            async with asyncio.timeout(timeout):
                while not predicate(self.events):
                    if self.ended.is_set():
                        raise AssertionError(f"stream ended; got {[e['type'] for e in self.events]}")
                    self._changed.clear()
                    await self._changed.wait()
        except TimeoutError:
            raise AssertionError(
                f"condition not met within {timeout}s; events: {[(e['id'], e['type']) for e in self.events]}"
            ) from None
        return self.events


@pytest.fixture
async def sse() -> AsyncIterator[type[SSEReader]]:
    yield SSEReader
