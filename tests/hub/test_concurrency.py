"""Races over real HTTP: claims, idempotent retries, one open handoff, message order."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

import httpx
import pytest

from .conftest import Workspace, bearer, new_conversation, packet

CLAIMERS = 50
HANDOFFS = 10
UNLIMITED = httpx.Limits(max_connections=None, max_keepalive_connections=None)


@pytest.fixture
def hub_settings() -> dict:
    """The same specialist may win every race here (the first request often does): no
    capacity limit (issue 12's max_active_per_agent would refuse the 6th; tests/hub/test_team.py)."""
    return {"max_active_per_agent": 0}


async def test_claim_race_has_exactly_one_winner(workspace: Workspace) -> None:
    tokens = [workspace.hub.create_agent(f"racer{i}", ["all"])[1] for i in range(CLAIMERS)]
    agent_ids = {}
    async with workspace.client(limits=UNLIMITED) as c:
        for t in tokens:
            agent_ids[t] = (await c.get("/v1/me", headers=bearer(t))).json()["agent"]["id"]
        for _round in range(HANDOFFS):
            hid = (await workspace.handoff())["handoff"]["id"]
            answers = await asyncio.gather(
                *[c.post(f"/v1/handoffs/{hid}/claim", headers=bearer(t)) for t in tokens]
            )
            counts = Counter(r.status_code for r in answers)
            assert counts == {200: 1, 409: CLAIMERS - 1}, counts
            winner_token = tokens[[r.status_code for r in answers].index(200)]
            winner = agent_ids[winner_token]
            for r in answers:
                if r.status_code == 409:
                    detail = r.json()["detail"]
                    assert detail["code"] == "already_claimed" and detail["owner"]["id"] == winner
            detail = (await c.get(f"/v1/handoffs/{hid}", headers=bearer(workspace.ben))).json()
            assert detail["claimed_by"]["id"] == winner
            joined = [
                m for m in detail["conversation"]["messages"] if m["body"].endswith("joined the conversation")
            ]
            assert len(joined) == 1
        events = (await c.get("/v1/handoffs", headers=bearer(workspace.ben))).json()
        assert len(events["items"]) == HANDOFFS


async def test_idempotent_retries_return_the_first_answer(workspace: Workspace) -> None:
    key = {"Idempotency-Key": "retry-" + uuid.uuid4().hex}
    body = {"conversation": new_conversation(), "packet": packet()}
    async with workspace.client(workspace.bot) as bot:
        first = await bot.post("/v1/handoffs", json=body, headers=key)
        second = await bot.post("/v1/handoffs", json=body, headers=key)
        assert first.status_code == second.status_code == 201
        assert first.json() == second.json()
        page = (await bot.get("/v1/handoffs")).json()
        assert len(page["items"]) == 1
        changed = await bot.post("/v1/handoffs", json={**body, "announce": False}, headers=key)
        assert changed.status_code == 422 and changed.json()["detail"]["code"] == "idempotency_key_reused"
        # the key is scoped to the caller: another bot may use the same string
        other = workspace.hub.create_bot("other-bot")
        r = await bot.post("/v1/handoffs", json=body, headers={**key, **bearer(other)})
        assert r.status_code == 201 and r.json()["handoff"]["id"] != first.json()["handoff"]["id"]

        cid = first.json()["handoff"]["conversation_id"]
        msg_key = {"Idempotency-Key": "m1"}
        m1 = await bot.post(f"/v1/conversations/{cid}/messages", json={"body": "hi"}, headers=msg_key)
        m2 = await bot.post(f"/v1/conversations/{cid}/messages", json={"body": "hi"}, headers=msg_key)
        assert m1.status_code == 201 and m1.json() == m2.json()
        conv = (await bot.get(f"/v1/conversations/{cid}")).json()
        assert [m["body"] for m in conv["messages"]].count("hi") == 1
        r = await bot.post(
            f"/v1/conversations/{cid}/messages", json={"body": "hi"}, headers={"Idempotency-Key": "k" * 201}
        )
        assert r.status_code == 422


@pytest.mark.parametrize("route", ["conversations", "handoffs", "messages"])
async def test_concurrent_duplicates_create_one_thing(workspace: Workspace, route: str) -> None:
    async with workspace.client(workspace.bot, limits=UNLIMITED) as bot:
        cid = None
        if route == "messages":
            cid = (await bot.post("/v1/conversations", json=new_conversation(messages=0))).json()[
                "conversation"
            ]["id"]
        before = (await bot.get("/v1/handoffs")).json()["last_event_id"]
        for round_ in range(3):
            key = {"Idempotency-Key": f"dup-{route}-{round_}"}
            if route == "conversations":
                path, body = "/v1/conversations", new_conversation()
            elif route == "handoffs":
                path, body = "/v1/handoffs", {"conversation": new_conversation(), "packet": packet()}
            else:
                path, body = f"/v1/conversations/{cid}/messages", {"body": f"once {round_}"}
            answers = await asyncio.gather(*[bot.post(path, json=body, headers=key) for _ in range(20)])
            assert {r.status_code for r in answers} == {201}, [
                r.text for r in answers if r.status_code != 201
            ]
            assert len({r.text for r in answers}) == 1
        after = (await bot.get("/v1/handoffs")).json()["last_event_id"]
        per_round = {"conversations": 3, "handoffs": 5, "messages": 1}[route]
        # (conversation.created + 2 messages) / (+ handoff.created + announcement) / 1 message
        assert after - before == 3 * per_round  # nothing was created twice
        if route == "messages":
            conv = (await bot.get(f"/v1/conversations/{cid}")).json()
            assert [m["body"] for m in conv["messages"]] == ["once 0", "once 1", "once 2"]
            assert [m["seq"] for m in conv["messages"]] == [1, 2, 3]
        if route == "handoffs":
            assert len((await bot.get("/v1/handoffs")).json()["items"]) == 3


async def test_concurrent_handoffs_on_one_conversation_leave_one_open(workspace: Workspace) -> None:
    async with workspace.client(workspace.bot, limits=UNLIMITED) as bot:
        cid = (await bot.post("/v1/conversations", json=new_conversation())).json()["conversation"]["id"]
        answers = await asyncio.gather(
            *[bot.post("/v1/handoffs", json={"conversation_id": cid, "packet": packet()}) for _ in range(20)]
        )
        counts = Counter(r.status_code for r in answers)
        assert counts == {201: 1, 409: 19}, counts
        assert {r.json()["detail"]["code"] for r in answers if r.status_code == 409} == {"handoff_open"}
        conv = (await bot.get(f"/v1/conversations/{cid}")).json()
        assert sum(m["body"].startswith("A specialist is joining") for m in conv["messages"]) == 1


async def test_concurrent_messages_get_distinct_consecutive_seqs(workspace: Workspace) -> None:
    async with workspace.client(workspace.bot, limits=UNLIMITED) as bot:
        cid = (await bot.post("/v1/conversations", json=new_conversation(messages=0))).json()["conversation"][
            "id"
        ]
        answers = await asyncio.gather(
            *[bot.post(f"/v1/conversations/{cid}/messages", json={"body": f"m{i}"}) for i in range(40)]
        )
        assert {r.status_code for r in answers} == {201}
        assert sorted(r.json()["seq"] for r in answers) == list(range(1, 41))


async def test_cached_positions_survive_another_hub_posting_meanwhile(postgres_url: str) -> None:
    """PostgreSQL hubs take a conversation's next message position from their cache (one round
    trip per post); when another hub moved it meanwhile, the commit's check refuses it, the
    post is redone uncached, and the transcript stays gap-free and in order."""
    from .conftest import start_hub

    a = start_hub(postgres_url)
    b = start_hub(postgres_url)
    try:
        bot = a.create_bot("relay")
        async with httpx.AsyncClient(base_url=a.base_url, headers=bearer(bot), timeout=30) as via_a:
            created = (await via_a.post("/v1/conversations", json=new_conversation(messages=0))).json()
        cid, buyer = created["conversation"]["id"], created["buyer_token"]
        path = f"/v1/conversations/{cid}/messages"
        seqs = []
        async with (
            httpx.AsyncClient(base_url=a.base_url, headers=bearer(buyer), timeout=30) as on_a,
            httpx.AsyncClient(base_url=b.base_url, headers=bearer(buyer), timeout=30) as on_b,
        ):
            posts = [(on_a, "one"), (on_a, "two"), (on_b, "three"), (on_a, "four"), (on_a, "five")]
            for client, text in posts:
                r = await client.post(path, json={"body": text})
                assert r.status_code == 201, r.text
                seqs.append(r.json()["seq"])
            transcript = (await on_a.get(f"/v1/conversations/{cid}")).json()["messages"]
        assert seqs == [1, 2, 3, 4, 5]
        assert [(m["seq"], m["body"]) for m in transcript] == list(
            zip([1, 2, 3, 4, 5], ["one", "two", "three", "four", "five"], strict=True)
        )
        assert a.db.stale_positions == 1  # "four": a's cached position 3 was taken by b
    finally:
        a.stop()
        b.stop()
