"""Assistant fixtures: a real hub over real HTTP with the demo catalog, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from hub.conftest import SSEReader, Workspace, bearer, new_conversation, packet, start_hub
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


@pytest.fixture
def workspace(database_url: str, hub_settings: dict[str, Any]) -> Iterator[Workspace]:
    """A hub on a database holding the demo catalog, with a bot and three specialists."""
    asyncio.run(ensure_demo_catalog(database_url))
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


async def open_handoff(ws: Workspace, **packet_overrides: Any) -> dict[str, Any]:
    """A handoff (inline conversation) for the gearbox case; returns HandoffCreated."""
    return await ws.handoff(conversation=new_conversation(), packet=gearbox_packet(**packet_overrides))


async def run_job(
    ws: Workspace, handoff_id: str, body: dict[str, Any], *, token: str | None = None, timeout: float = 20
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """POST a job and read the agent's event stream until it finishes; returns (job, its events)."""
    async with ws.client(token or ws.ana) as client, SSEReader(client) as stream:
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
