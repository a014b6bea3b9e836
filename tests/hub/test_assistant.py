"""The hub's own buyer channel: its product AI answers buyer turns and hands off, over real HTTP."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from warmline.catalog.demo import ensure_demo_catalog
from warmline.hub.embedded import EmbeddedHub

from .conftest import bearer


@pytest.fixture
def hub_with_catalog(database_url):
    asyncio.run(ensure_demo_catalog(database_url))
    with EmbeddedHub(database_url=database_url) as hub:
        _agent, agent_token = hub.create_agent("dana", ["all"])
        yield hub, hub.create_bot("widget"), agent_token


def _messages(client: httpx.Client, conversation_id: str, token: str) -> list[dict]:
    response = client.get(f"/v1/conversations/{conversation_id}", headers=bearer(token))
    response.raise_for_status()
    return response.json()["messages"]


def _wait_for(condition, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


def test_ai_answers_each_buyer_turn_then_hands_off_and_falls_silent(hub_with_catalog):
    hub, bot_token, agent_token = hub_with_catalog
    with httpx.Client(base_url=hub.base_url, timeout=30) as http:
        created = http.post(
            "/v1/conversations",
            headers=bearer(bot_token),
            json={
                "buyer": {"name": "Ola", "company": "Fjord Tools AS", "tier": "standard"},
                "ai_assistant": True,
            },
        )
        assert created.status_code == 201, created.text
        conversation_id = created.json()["conversation"]["id"]
        assert created.json()["conversation"]["ai_assistant"] is True
        buyer = bearer(created.json()["buyer_token"])

        def say(text: str) -> None:
            r = http.post(f"/v1/conversations/{conversation_id}/messages", headers=buyer, json={"body": text})
            assert r.status_code == 201, r.text

        say("Which pump should I use for this coolant loop?")
        thread = _wait_for(lambda: (m := _messages(http, conversation_id, agent_token)) and len(m) >= 2 and m)
        assert [m["author_kind"] for m in thread] == ["buyer", "ai"]
        assert thread[1]["body"].endswith("?"), "an underspecified pump request gets a clarifying question"
        queue = http.get("/v1/handoffs", headers=bearer(agent_token)).json()["items"]
        assert queue == [], "a routine clarification stays with the AI"

        say("Honestly I'd rather talk to a person about this, can someone from sales call me?")
        thread = _wait_for(lambda: (m := _messages(http, conversation_id, agent_token)) and len(m) >= 4 and m)
        assert [m["author_kind"] for m in thread] == ["buyer", "ai", "buyer", "ai"]
        queue = _wait_for(lambda: http.get("/v1/handoffs", headers=bearer(agent_token)).json()["items"])
        assert len(queue) == 1
        handoff = http.get(f"/v1/handoffs/{queue[0]['id']}", headers=bearer(agent_token)).json()
        assert handoff["conversation_id"] == conversation_id
        assert handoff["reason"] == "explicit_request"
        assert handoff["packet"]["summary"] in thread[3]["body"], "the buyer is told why a specialist joins"
        assert handoff["required_skills"], "routing came from the engine"

        say("Thanks, I'll wait.")
        say("Still there?")
        # deciding now (after the background turns queued for these posts) does nothing
        assert hub.run(hub.app.state.assistant.respond(conversation_id)) is None
        kinds = [m["author_kind"] for m in _messages(http, conversation_id, agent_token)]
        assert kinds == ["buyer", "ai", "buyer", "ai", "buyer", "buyer"], "humans have it now: no AI turns"


def test_conversations_without_the_assistant_get_no_ai_turns(hub_with_catalog):
    hub, bot_token, agent_token = hub_with_catalog
    with httpx.Client(base_url=hub.base_url, timeout=30) as http:
        created = http.post(
            "/v1/conversations", headers=bearer(bot_token), json={"buyer": {"company": "Plain Co"}}
        ).json()
        conversation_id = created["conversation"]["id"]
        r = http.post(
            f"/v1/conversations/{conversation_id}/messages",
            headers=bearer(created["buyer_token"]),
            json={"body": "Can someone call me about a quote for 500 units?"},
        )
        assert r.status_code == 201
        # the channel answers only flagged conversations: deciding directly is a no-op here
        assert hub.run(hub.app.state.assistant.respond(conversation_id)) is None
        assert [m["author_kind"] for m in _messages(http, conversation_id, agent_token)] == ["buyer"]
