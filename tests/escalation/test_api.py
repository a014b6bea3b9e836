"""`POST /v1/escalation/decide` on a real hub over loopback HTTP (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from warmline.catalog.demo import ensure_demo_catalog
from warmline.hub.embedded import EmbeddedHub
from warmline.hub.settings import HubSettings


@pytest.fixture
async def hub(database_url: str) -> AsyncIterator[tuple[EmbeddedHub, str]]:
    await ensure_demo_catalog(database_url)
    embedded = EmbeddedHub(HubSettings(database_url=database_url, host="127.0.0.1", port=0))
    embedded.start()
    try:
        yield embedded, embedded.create_bot("product-ai")
    finally:
        embedded.stop()


async def test_bot_gets_a_decision_with_packet(hub: tuple[EmbeddedHub, str]) -> None:
    embedded, token = hub
    body = {
        "turns": [
            {"seq": 1, "author_kind": "buyer", "body": "What's the lead time for the GX-220 to Norway?"},
        ],
        "account": {"company": "Fjord Aqua AS", "tier": "standard"},
    }
    async with httpx.AsyncClient(base_url=embedded.base_url, timeout=30) as client:
        r = await client.post(
            "/v1/escalation/decide", json=body, headers={"Authorization": f"Bearer {token}"}
        )
        assert r.status_code == 200, r.text
        decision = r.json()
        assert decision["outcome"] == "escalate" and decision["reason"] == "live_data"
        assert decision["sub_reason"] == "lead_time"
        assert decision["packet"]["products"][0]["sku"] == "GX-220"
        assert "logistics" in decision["required_skills"]

        # the packet is accepted as-is by the handoff endpoint
        handoff = {
            "conversation": {"buyer": {"company": "Fjord Aqua AS"},
                             "messages": [{"author_kind": "buyer", "body": body["turns"][0]["body"]}]},
            "packet": decision["packet"],
            "required_skills": decision["required_skills"],
            "priority": decision["priority"],
        }  # fmt: skip
        created = await client.post(
            "/v1/handoffs", json=handoff, headers={"Authorization": f"Bearer {token}"}
        )
        assert created.status_code == 201, created.text

        unauthenticated = await client.post("/v1/escalation/decide", json=body)
        assert unauthenticated.status_code == 401
        bad = await client.post(
            "/v1/escalation/decide",
            json={"turns": [{"seq": 1, "author_kind": "ai", "body": "hello"}]},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert bad.status_code == 422 and "buyer turn" in bad.text
        empty = await client.post(
            "/v1/escalation/decide", json={"turns": []}, headers={"Authorization": f"Bearer {token}"}
        )
        assert empty.status_code == 422 and "turns" in empty.text
