"""The HTTP contract over real HTTP on loopback, on SQLite and PostgreSQL."""

from __future__ import annotations

import json

from warmline.domain.models import HandoffDetail, HandoffPage, Me
from warmline.domain.packet import packet_json_schema

from .conftest import SSEReader, Workspace, bearer, new_conversation, packet


async def test_health_schema_docs_and_me(workspace: Workspace) -> None:
    async with workspace.client() as c:
        assert (await c.get("/v1/health")).json() == {"status": "ok"}
        assert (await c.get("/v1/schema/packet")).json() == packet_json_schema()
        assert (await c.get("/docs")).status_code == 200
        paths = (await c.get("/openapi.json")).json()["paths"]
        assert {"/v1/handoffs", "/v1/handoffs/{handoff_id}/claim", "/v1/events"} <= set(paths)
        me = Me.model_validate((await c.get("/v1/me", headers=bearer(workspace.ana))).json())
    assert me.kind == "agent" and me.agent is not None and me.agent.skills == ["drives", "quotes"]
    assert me.agent.display_name == "Ana Petrova"


async def test_handoff_lifecycle_posts_system_lines_and_replies(workspace: Workspace) -> None:
    created = await workspace.handoff()
    handoff = created["handoff"]
    assert created["buyer_token"]
    assert handoff["status"] == "queued" and handoff["priority"] == "high"
    assert handoff["required_skills"] == ["drives", "quotes"]
    assert handoff["buyer_company"] == "Acme Conveyors"
    hid, cid = handoff["id"], handoff["conversation_id"]

    async with workspace.client(workspace.ana) as ana:
        detail = HandoffDetail.model_validate((await ana.get(f"/v1/handoffs/{hid}")).json())
        assert [m.seq for m in detail.conversation.messages] == [1, 2, 3]
        assert detail.conversation.messages[-1].author_kind == "system"
        assert detail.conversation.messages[-1].body == f"A specialist is joining: {packet()['summary']}"
        assert detail.packet.products[0].sku == "GX-220"

        r = await ana.post(f"/v1/conversations/{cid}/messages", json={"body": "hello"})
        assert r.status_code == 409 and r.json()["detail"]["code"] == "not_claimed"

        r = await ana.post(f"/v1/handoffs/{hid}/claim")
        assert r.status_code == 200, r.text
        assert r.json()["claimed_by"] == {"id": workspace.ana_id, "name": "Ana Petrova"}
        assert (await ana.post(f"/v1/handoffs/{hid}/claim")).status_code == 200  # already mine

        r = await ana.post(f"/v1/conversations/{cid}/messages", json={"body": "GX-220 is in stock."})
        assert r.status_code == 201, r.text
        reply = r.json()
        assert reply["author_kind"] == "agent" and reply["author_name"] == "Ana Petrova"
        assert reply["agent_id"] == workspace.ana_id and reply["seq"] == 5
        r = await ana.post(f"/v1/conversations/{cid}/messages", json={"body": "check ATEX", "internal": True})
        assert r.status_code == 201 and r.json()["internal"] is True

        assert (await ana.post(f"/v1/handoffs/{hid}/release")).json()["status"] == "queued"
        assert (await ana.post(f"/v1/handoffs/{hid}/claim")).status_code == 200
        resolved = (await ana.post(f"/v1/handoffs/{hid}/resolve")).json()
        assert resolved["status"] == "resolved" and resolved["resolved_at"]

        conv = (await ana.get(f"/v1/conversations/{cid}")).json()
    bodies = [m["body"] for m in conv["messages"]]
    assert bodies[3] == "Ana Petrova joined the conversation"
    assert any("stepped away" in b for b in bodies)
    assert bodies[-1] == "Ana Petrova marked this conversation as resolved"
    assert [m["seq"] for m in conv["messages"]] == list(range(1, len(bodies) + 1))

    async with workspace.client(created["buyer_token"]) as buyer:
        seen = (await buyer.get(f"/v1/conversations/{cid}")).json()["messages"]
    assert "check ATEX" not in [m["body"] for m in seen]
    assert len(seen) == len(bodies) - 1


async def test_queue_filters_sort_and_search(workspace: Workspace) -> None:
    normal = await workspace.handoff(packet=packet(reason="low_confidence", sub_reason=""))
    pump = await workspace.handoff(
        conversation=new_conversation("Hydro Works"),
        packet=packet(
            reason="complexity",
            sub_reason="",
            product_family="pump",
            products=[{"sku": "CP-40", "family": "pump", "name": "centrifugal pump"}],
            summary="Pump sizing for a cooling loop",
        ),
    )
    high = await workspace.handoff(conversation=new_conversation("Zeta Mills"))
    async with workspace.client(workspace.ana) as ana:
        page = HandoffPage.model_validate((await ana.get("/v1/handoffs")).json())
        assert page.last_event_id > 0
        ids = [h.id for h in page.items]
        # high priority first, then the normal ones oldest first
        assert ids == [high["handoff"]["id"], normal["handoff"]["id"], pump["handoff"]["id"]]
        assert [h.priority for h in page.items] == ["high", "normal", "normal"]

        mine = (await ana.get("/v1/handoffs", params={"mine": "true"})).json()["items"]
        assert pump["handoff"]["id"] not in [h["id"] for h in mine] and len(mine) == 2

        found = (await ana.get("/v1/handoffs", params={"q": "cp-40"})).json()["items"]
        assert [h["id"] for h in found] == [pump["handoff"]["id"]]
        found = (await ana.get("/v1/handoffs", params={"q": "zeta gx-220"})).json()["items"]
        assert [h["id"] for h in found] == [high["handoff"]["id"]]
        assert (await ana.get("/v1/handoffs", params={"q": "100%_"})).json()["items"] == []

        only = (await ana.get("/v1/handoffs", params={"skills": "pumps,applications"})).json()["items"]
        assert [h["id"] for h in only] == [pump["handoff"]["id"]]

        assert len((await ana.get("/v1/handoffs", params={"limit": 1})).json()["items"]) == 1
        await ana.post(f"/v1/handoffs/{high['handoff']['id']}/claim")
        claimed = (await ana.get("/v1/handoffs", params={"status": "claimed"})).json()["items"]
        assert [h["id"] for h in claimed] == [high["handoff"]["id"]]
        assert claimed[0]["claimed_by"]["name"] == "Ana Petrova"

        r = await ana.get("/v1/handoffs", params={"status": "queued,bogus"})
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "status"]
        r = await ana.get("/v1/handoffs", params={"limit": 20001})
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "limit"]
    async with workspace.client(workspace.bot) as bot:
        r = await bot.get("/v1/handoffs", params={"mine": "true"})
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "mine"]


async def test_handoff_for_existing_conversation_and_one_open_per_conversation(workspace: Workspace) -> None:
    async with workspace.client(workspace.bot) as bot:
        r = await bot.post("/v1/conversations", json=new_conversation(messages=1))
        assert r.status_code == 201
        cid = r.json()["conversation"]["id"]
        assert r.json()["conversation"]["messages"][0]["seq"] == 1
        body = {
            "conversation_id": cid,
            "packet": packet(),
            "announce": False,
            "priority": "urgent",
            "required_skills": ["sensors"],
        }
        r = await bot.post("/v1/handoffs", json=body)
        assert r.status_code == 201, r.text
        h = r.json()
        assert h["buyer_token"] is None
        assert h["handoff"]["priority"] == "urgent" and h["handoff"]["required_skills"] == ["sensors"]
        r = await bot.post("/v1/handoffs", json=body)
        assert r.status_code == 409 and r.json()["detail"]["code"] == "handoff_open"
        conv = (await bot.get(f"/v1/conversations/{cid}")).json()
        assert len(conv["messages"]) == 1  # announce=false posted nothing
        r = await bot.post("/v1/handoffs", json={**body, "conversation_id": "cnv_missing"})
        assert r.status_code == 404 and r.json()["detail"]["code"] == "not_found"


async def test_escalated_at_sets_queue_age_but_never_the_future(workspace: Workspace) -> None:
    old = await workspace.handoff(escalated_at="2020-01-02T03:04:05Z")
    assert old["handoff"]["created_at"].startswith("2020-01-02T03:04:05")
    future = await workspace.handoff(escalated_at="2999-01-01T00:00:00Z")
    assert future["handoff"]["created_at"] < "2100"


async def test_bots_post_as_ai_system_or_buyer(workspace: Workspace) -> None:
    created = await workspace.handoff()
    cid = created["handoff"]["conversation_id"]
    async with workspace.client(workspace.bot) as bot:
        r = await bot.post(f"/v1/conversations/{cid}/messages", json={"body": "I can help."})
        assert (
            r.status_code == 201
            and r.json()["author_kind"] == "ai"
            and r.json()["author_name"] == "product-ai"
        )
        r = await bot.post(
            f"/v1/conversations/{cid}/messages",
            json={"body": "hi", "author_kind": "buyer", "author_name": "Bo"},
        )
        assert r.status_code == 201 and r.json()["author_kind"] == "buyer"
        r = await bot.post(f"/v1/conversations/{cid}/messages", json={"body": "x", "author_kind": "agent"})
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "author_kind"]
    async with workspace.client(created["buyer_token"]) as buyer:
        r = await buyer.post(f"/v1/conversations/{cid}/messages", json={"body": "any news?"})
        assert r.status_code == 201 and r.json()["author_kind"] == "buyer"
        assert r.json()["author_name"] == "Bo Buyer"
        r = await buyer.post(f"/v1/conversations/{cid}/messages", json={"body": "x", "internal": True})
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "internal"]


async def test_authorization_matrix(workspace: Workspace) -> None:
    a = await workspace.handoff()
    b = await workspace.handoff(conversation=new_conversation("Other Co"))
    hid, cid = a["handoff"]["id"], a["handoff"]["conversation_id"]
    other_cid = b["handoff"]["conversation_id"]
    async with workspace.client() as anon:
        for method, path in [
            ("GET", "/v1/me"),
            ("GET", "/v1/handoffs"),
            ("GET", "/v1/events"),
            ("POST", f"/v1/handoffs/{hid}/claim"),
        ]:
            r = await anon.request(method, path)
            assert r.status_code == 401, (method, path)
            assert r.json()["detail"]["code"] == "unauthorized"
            assert r.headers["www-authenticate"] == "Bearer"
        r = await anon.get("/v1/me", headers=bearer("not-a-real-token"))
        assert r.status_code == 401
        r = await anon.get("/v1/me", headers={"Authorization": "Basic abc"})
        assert r.status_code == 401
    async with workspace.client(workspace.ana) as ana:
        assert (await ana.post(f"/v1/handoffs/{hid}/claim")).status_code == 200
        # an agent cannot act as a bot
        r = await ana.post("/v1/handoffs", json={"conversation": new_conversation(), "packet": packet()})
        assert r.status_code == 403 and r.json()["detail"]["code"] == "forbidden"
        r = await ana.post("/v1/agents", json={"name": "eve", "skills": ["drives"]})
        assert r.status_code == 403  # needs all skills
    async with workspace.client(workspace.cy) as cy:
        r = await cy.post(f"/v1/conversations/{cid}/messages", json={"body": "me too"})
        assert r.status_code == 409 and r.json()["detail"]["code"] == "claimed_by_other"
        assert r.json()["detail"]["owner"] == {"id": workspace.ana_id, "name": "Ana Petrova"}
        r = await cy.post(f"/v1/handoffs/{hid}/release")
        assert r.status_code == 409 and r.json()["detail"]["code"] == "claimed_by_other"
        r = await cy.post(f"/v1/handoffs/{hid}/claim")
        assert r.status_code == 409 and r.json()["detail"]["code"] == "already_claimed"
        assert r.json()["detail"]["owner"]["id"] == workspace.ana_id
    async with workspace.client(workspace.bot) as bot:
        assert (await bot.post(f"/v1/handoffs/{hid}/claim")).status_code == 403
        assert (await bot.get("/v1/agents")).status_code == 200
    async with workspace.client(a["buyer_token"]) as buyer:
        assert (await buyer.get(f"/v1/conversations/{other_cid}")).status_code == 403
        r = await buyer.post(f"/v1/conversations/{other_cid}/messages", json={"body": "hi"})
        assert r.status_code == 403
        assert (await buyer.get("/v1/handoffs")).status_code == 403
        assert (await buyer.get(f"/v1/handoffs/{hid}")).status_code == 403
        assert (await buyer.get("/v1/agents")).status_code == 403
        me = (await buyer.get("/v1/me")).json()
        assert me["kind"] == "buyer" and me["conversation_id"] == cid
    async with workspace.client(workspace.ben) as ben:
        r = await ben.post("/v1/agents", json={"name": "eve", "skills": ["drives"], "display_name": "Eve"})
        assert r.status_code == 201, r.text
        eve_token = r.json()["token"]
        r = await ben.post("/v1/agents", json={"name": "eve", "skills": ["drives"]})
        assert r.status_code == 409 and r.json()["detail"]["code"] == "name_taken"
    async with workspace.client(eve_token) as eve:
        assert (await eve.get("/v1/me")).json()["agent"]["name"] == "eve"


async def test_validation_errors_name_the_field(workspace: Workspace) -> None:
    created = await workspace.handoff()
    cid = created["handoff"]["conversation_id"]
    async with workspace.client(workspace.bot) as bot:
        r = await bot.post(
            "/v1/handoffs", json={"conversation": new_conversation(), "packet": {"reason": "nope"}}
        )
        assert r.status_code == 422
        locs = {tuple(e["loc"]) for e in r.json()["detail"]}
        assert ("body", "packet", "reason") in locs and ("body", "packet", "summary") in locs
        r = await bot.post("/v1/handoffs", json={"packet": packet()})
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "conversation_id"]
        r = await bot.post(
            "/v1/handoffs",
            json={"conversation": new_conversation(), "packet": packet(), "required_skills": ["drives", "x"]},
        )
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "required_skills", 1]
        assert "unknown skill 'x'" in r.json()["detail"][0]["msg"]
        r = await bot.post(f"/v1/conversations/{cid}/messages", json={"body": "x" * 8001})
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "body"]
        r = await bot.post(f"/v1/conversations/{cid}/messages", json={"body": ""})
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "body"]
        r = await bot.post(f"/v1/conversations/{cid}/messages", json={"body": "x", "colour": "red"})
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "colour"]
        r = await bot.post(
            f"/v1/conversations/{cid}/messages",
            content=b"{not json",
            headers={"content-type": "application/json"},
        )
        assert r.status_code == 422
        r = await bot.post("/v1/conversations/cnv_nope/messages", json={"body": "x"})
        assert r.status_code == 404 and r.json()["detail"]["code"] == "not_found"
        assert (await bot.get("/v1/handoffs/hnd_nope")).status_code == 404


async def test_oversize_requests_are_413_and_change_nothing(workspace: Workspace) -> None:
    async with workspace.client(workspace.bot) as bot:
        before = (await bot.get("/v1/handoffs")).json()["last_event_id"]
        big = {"conversation": new_conversation(), "packet": packet(goal="g" * 1500)}
        big["conversation"]["messages"] = [{"author_kind": "buyer", "body": "y" * 7999}] * 140
        r = await bot.post("/v1/handoffs", json=big)
        assert r.status_code == 413 and r.json()["detail"]["code"] == "request_too_large"

        async def chunks():  # no Content-Length: the streamed size is counted instead
            data = json.dumps(big).encode()
            for i in range(0, len(data), 65536):
                yield data[i : i + 65536]

        r = await bot.post("/v1/handoffs", content=chunks(), headers={"content-type": "application/json"})
        assert r.status_code == 413
        assert (await bot.get("/v1/handoffs")).json()["last_event_id"] == before


async def test_rejected_handoff_leaves_no_half_written_state(workspace: Workspace) -> None:
    """The inline conversation is inserted before the packet's turn references can be
    checked against it; when that check fails, the conversation must not survive."""
    async with workspace.client(workspace.ben) as ben:
        before = (await ben.get("/v1/handoffs", params={"status": "queued,claimed,resolved"})).json()
    bad = packet(products=[{"sku": "GX-220", "family": "gearbox", "source_turn": 3}])
    async with workspace.client(workspace.bot) as bot:
        r = await bot.post("/v1/handoffs", json={"conversation": new_conversation(messages=2), "packet": bad})
        assert r.status_code == 422, r.text
        assert r.json()["detail"][0]["loc"] == ["body", "packet", "products", 0, "source_turn"]
        assert "not in the conversation" in r.json()["detail"][0]["msg"]
        good = packet(goal_turn=2, products=[{"sku": "GX-220", "family": "gearbox", "source_turn": 1}])
        r = await bot.post(
            "/v1/handoffs", json={"conversation": new_conversation(messages=2), "packet": good}
        )
        assert r.status_code == 201
    async with workspace.client(workspace.ben) as ben:
        after = (await ben.get("/v1/handoffs", params={"status": "queued,claimed,resolved"})).json()
        # the good one wrote 5 events (conversation, 2 messages, handoff, announcement), the bad one none
        assert after["last_event_id"] == before["last_event_id"] + 5
        assert len(after["items"]) == len(before["items"]) + 1
        async with SSEReader(ben, last_event_id=before["last_event_id"]) as stream:
            events = await stream.wait_for(lambda ev: len(ev) >= 5)
    assert {e["conversation_id"] for e in events} == {after["items"][0]["conversation_id"]}
