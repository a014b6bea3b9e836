"""The simulator drives a real hub over HTTP; every handoff it makes comes from the engine."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from warmline.catalog.service import CatalogService, make_engine
from warmline.demo import SPECIALISTS, prepare_workspace
from warmline.escalation.engine import EscalationEngine
from warmline.hub.embedded import EmbeddedHub
from warmline.sim.runner import Simulator
from warmline.sim.scenarios import SCENARIOS


@pytest.fixture
def demo_hub(database_url):
    with EmbeddedHub(database_url=database_url) as hub:
        workspace = asyncio.run(prepare_workspace(hub_url=hub.base_url, database_url=database_url))
        yield hub, workspace


def _handoffs(hub_url: str, token: str) -> list[dict]:
    response = httpx.get(
        f"{hub_url}/v1/handoffs",
        params={"status": "queued,claimed,resolved"},
        headers={"Authorization": f"Bearer {token}"},
    )
    response.raise_for_status()
    return response.json()["items"]


def test_seed_hands_off_every_scenario_once_and_is_idempotent(demo_hub, database_url):
    hub, workspace = demo_hub

    async def scenario() -> tuple[list[str], list[str]]:
        engine = make_engine(database_url)
        simulator = Simulator(
            hub.base_url, workspace.bot_token, EscalationEngine(catalog=CatalogService(engine))
        )
        try:
            first = await simulator.seed()
            again = await simulator.seed()
        finally:
            await simulator.aclose()
            await engine.dispose()
        return first, again

    first, again = asyncio.run(scenario())
    assert len(first) == len(SCENARIOS) >= 20
    assert again == first, "a second seed must return the same handoffs, not new ones"
    rows = _handoffs(hub.base_url, workspace.tokens["sophie"])
    assert len(rows) == len(SCENARIOS)
    companies = {row["buyer_company"] for row in rows}
    assert "Nordic Conveyors AB" in companies
    # routing came from the engine: every handoff needs at least one skill some specialist has
    for row in rows:
        assert row["required_skills"], row
        assert any("all" in s.skills or set(row["required_skills"]) <= set(s.skills) for s in SPECIALISTS), (
            f"no demo specialist can take {row['required_skills']}"
        )
    gearbox = next(r for r in rows if r["buyer_company"] == "Nordic Conveyors AB")
    detail = httpx.get(
        f"{hub.base_url}/v1/handoffs/{gearbox['id']}",
        headers={"Authorization": f"Bearer {workspace.tokens['anna']}"},
    ).json()
    skus = {p["sku"] for p in detail["packet"]["products"]}
    assert {"GX-220", "GX-240"} <= skus
    bodies = [m["body"] for m in detail["conversation"]["messages"]]
    assert bodies[0] == "I need a replacement gearbox for our conveyor line"
    assert detail["conversation"]["messages"][1]["author_kind"] == "ai"


def test_live_traffic_adds_conversations_handoffs_and_buyer_replies(demo_hub, database_url):
    hub, workspace = demo_hub

    async def scenario() -> Simulator:
        engine = make_engine(database_url)
        simulator = Simulator(
            hub.base_url,
            workspace.bot_token,
            EscalationEngine(catalog=CatalogService(engine)),
            interval=(0.0, 0.01),
            turn_pause=(0.0, 0.0),
        )
        try:
            await simulator.seed()
            before = simulator.handoffs_created
            await simulator.new_conversation()
            await simulator.buyer_follow_up()
            await simulator.run(iterations=4)
            assert simulator.handoffs_created > before
        finally:
            await simulator.aclose()
            await engine.dispose()
        return simulator

    simulator = asyncio.run(scenario())
    rows = _handoffs(hub.base_url, workspace.tokens["sophie"])
    assert len(rows) == simulator.handoffs_created
    # the live conversation was played turn by turn: buyer and AI messages, in order
    live = [r for r in rows if r["buyer_company"] not in {s.buyer.company for s in SCENARIOS}]
    assert live, "live traffic should hand off conversations from new buyer companies"
    detail = httpx.get(
        f"{hub.base_url}/v1/handoffs/{live[0]['id']}",
        headers={"Authorization": f"Bearer {workspace.tokens['sophie']}"},
    ).json()
    kinds = [m["author_kind"] for m in detail["conversation"]["messages"]]
    assert kinds[0] == "buyer" and kinds[1] == "ai"
    assert [m["seq"] for m in detail["conversation"]["messages"]] == list(range(1, len(kinds) + 1))
