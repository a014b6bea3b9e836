"""Team work (issue 12) on a real hub over HTTP, SQLite and PostgreSQL: the reply timeout
(fires once, at the timeout, not after a first reply, survives a restart, front of its
priority), capacity (409 capacity_reached, slots freed at once), colleague notes (any agent,
never the buyer, @mentions) and transfer (to a colleague or to skills)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import httpx
from tests.hub.conftest import SSEReader, Workspace, bearer, open_workspace, packet, start_hub

FAST = {"reply_timeout_s": 1.0, "assignment_sweep_s": 0.05}


def _types(events: list[dict[str, Any]], kind: str, handoff_id: str | None = None) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == kind and (handoff_id is None or e["handoff_id"] == handoff_id)]


async def _wait(predicate: Any, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not await predicate():
            await asyncio.sleep(0.02)


async def _status(c: httpx.AsyncClient, hid: str) -> dict[str, Any]:
    r = await c.get(f"/v1/handoffs/{hid}")
    assert r.status_code == 200, r.text
    return r.json()


# --- reply timeout ------------------------------------------------------------------------


async def test_reply_timeout_requeues_once_at_the_timeout_with_a_note(database_url: str) -> None:
    with open_workspace(database_url, **FAST) as ws:
        created = await ws.handoff()
        hid, buyer_token = created["handoff"]["id"], created["buyer_token"]
        older = (await ws.handoff(conversation=_conv("Older Co")))["handoff"]["id"]  # queued, same priority
        async with ws.client(ws.ana) as ana, SSEReader(ana) as stream:
            r = await ana.post(f"/v1/handoffs/{hid}/claim")
            assert r.status_code == 200 and r.json()["status"] == "claimed"
            claimed_at = datetime.fromisoformat(r.json()["claimed_at"])
            await stream.wait_for(lambda ev: _types(ev, "handoff.requeued", hid))
            [requeued] = _types(stream.events, "handoff.requeued", hid)
            data = requeued["data"]
            assert data["from_agent"] == {"id": ws.ana_id, "name": "Ana Petrova"}
            assert data["reason"] == "reply_timeout" and data["held_s"] >= 1.0
            requeued_at = datetime.fromisoformat(data["handoff"]["requeued_at"])
            assert (requeued_at - claimed_at).total_seconds() >= 1.0  # not before the timeout
            assert data["handoff"]["status"] == "queued" and data["handoff"]["claimed_by"] is None
            # the holder was warned first (the desktop app's timeout notification)
            [warned] = _types(stream.events, "handoff.claim_expiring", hid)
            assert warned["id"] < requeued["id"] and warned["data"]["agent_id"] == ws.ana_id
            # several sweeps later: still exactly one requeue
            marker = (await ws.handoff(conversation=_conv("Marker Co")))["handoff"]["id"]
            assert (await ana.post(f"/v1/handoffs/{marker}/claim")).status_code == 200
            await stream.wait_for(lambda ev: _types(ev, "handoff.requeued", marker))
            assert len(_types(stream.events, "handoff.requeued", hid)) == 1
            detail = await _status(ana, hid)
            assert detail["status"] == "queued" and detail["claimed_at"] is None
            notes = [m for m in detail["conversation"]["messages"] if m["internal"]]
            assert len(notes) == 1 and "Taken back from Ana Petrova" in notes[0]["body"]
            # front of its priority: ahead of the older queued handoff
            queue = [h["id"] for h in (await ana.get("/v1/handoffs?status=queued")).json()["items"]]
            assert queue.index(hid) < queue.index(older)
            # claiming it again starts afresh (and it leaves the front)
            r = await ana.post(f"/v1/handoffs/{hid}/claim")
            assert r.status_code == 200 and r.json()["requeued_at"] is None
        async with ws.client(buyer_token) as buyer:  # the buyer never sees the internal note
            r = await buyer.get(f"/v1/conversations/{created['handoff']['conversation_id']}")
            assert not any("Taken back" in m["body"] for m in r.json()["messages"])


def _conv(company: str) -> dict[str, Any]:
    return {
        "buyer": {"name": "Bo", "company": company},
        "messages": [{"author_kind": "buyer", "body": "hello"}],
    }


async def test_no_requeue_after_a_first_reply(database_url: str) -> None:
    with open_workspace(database_url, **FAST) as ws:
        created = await ws.handoff()
        hid, cid = created["handoff"]["id"], created["handoff"]["conversation_id"]
        async with ws.client(ws.ana) as ana, SSEReader(ana) as stream:
            assert (await ana.post(f"/v1/handoffs/{hid}/claim")).status_code == 200
            r = await ana.post(f"/v1/conversations/{cid}/messages", json={"body": "Hi, Ana here."})
            assert r.status_code == 201
            assert (await _status(ana, hid))["first_reply_at"] is not None
            # a handoff claimed after it, with no reply, times out: the timeout has passed for both
            marker = (await ws.handoff(conversation=_conv("Marker Co")))["handoff"]["id"]
            assert (await ana.post(f"/v1/handoffs/{marker}/claim")).status_code == 200
            await stream.wait_for(lambda ev: _types(ev, "handoff.requeued", marker))
            assert not _types(stream.events, "handoff.requeued", hid)
            assert (await _status(ana, hid))["status"] == "claimed"


async def test_an_internal_note_is_not_a_first_reply(database_url: str) -> None:
    with open_workspace(database_url, **FAST) as ws:
        created = await ws.handoff()
        hid, cid = created["handoff"]["id"], created["handoff"]["conversation_id"]
        async with ws.client(ws.ana) as ana, SSEReader(ana) as stream:
            assert (await ana.post(f"/v1/handoffs/{hid}/claim")).status_code == 200
            r = await ana.post(
                f"/v1/conversations/{cid}/messages", json={"body": "checking", "internal": True}
            )
            assert r.status_code == 201
            await stream.wait_for(lambda ev: _types(ev, "handoff.requeued", hid))


async def test_the_timer_survives_a_hub_restart(database_url: str) -> None:
    with open_workspace(database_url, reply_timeout_s=1.0, assignment_sweep_s=30.0) as ws:
        created = await ws.handoff()
        hid = created["handoff"]["id"]
        async with ws.client(ws.ana) as ana:
            assert (await ana.post(f"/v1/handoffs/{hid}/claim")).status_code == 200
            token = ws.ana
        await asyncio.sleep(0)  # (the first sweep ran at start: nothing was due then)
    # a new hub on the same database: the claim's timer is in the row
    hub = start_hub(database_url, **FAST)
    try:
        async with httpx.AsyncClient(base_url=hub.base_url or "", headers=bearer(token), timeout=30) as ana:

            async def requeued() -> bool:
                return (await _status(ana, hid))["status"] == "queued"

            await _wait(requeued)
            detail = await _status(ana, hid)
            assert detail["requeued_at"] is not None
            assert sum("Taken back" in m["body"] for m in detail["conversation"]["messages"]) == 1
    finally:
        hub.stop()


async def test_idle_buyer_is_flagged_in_the_queue(database_url: str) -> None:
    with open_workspace(database_url, reply_timeout_s=0, idle_timeout_s=0.3) as ws:
        created = await ws.handoff()
        hid, cid, buyer_token = (
            created["handoff"]["id"],
            created["handoff"]["conversation_id"],
            created["buyer_token"],
        )
        async with ws.client(ws.ana) as ana, ws.client(buyer_token) as buyer:
            assert (await ana.post(f"/v1/handoffs/{hid}/claim")).status_code == 200
            assert (
                await ana.post(f"/v1/conversations/{cid}/messages", json={"body": "Hello"})
            ).status_code == 201
            assert (
                await buyer.post(f"/v1/conversations/{cid}/messages", json={"body": "any news?"})
            ).status_code == 201

            async def flagged() -> bool:
                items = (await ana.get("/v1/handoffs")).json()["items"]
                return any(h["id"] == hid and h["buyer_waiting_since"] for h in items)

            await _wait(flagged)
            r = await ana.get("/v1/assignment")
            assert r.json()["idle_timeout_s"] == 0.3 and r.json()["reply_timeout_s"] == 0
            # answering clears it; the handoff stays with its holder throughout
            assert (
                await ana.post(f"/v1/conversations/{cid}/messages", json={"body": "Yes:"})
            ).status_code == 201
            items = (await ana.get("/v1/handoffs")).json()["items"]
            [row] = [h for h in items if h["id"] == hid]
            assert row["buyer_waiting_since"] is None and row["status"] == "claimed"


# --- capacity -------------------------------------------------------------------------------


async def test_capacity_refuses_the_next_claim_and_frees_slots(database_url: str) -> None:
    with open_workspace(database_url, max_active_per_agent=2, reply_timeout_s=0) as ws:
        ids = [(await ws.handoff(conversation=_conv(f"Co {i}")))["handoff"]["id"] for i in range(4)]
        async with ws.client(ws.ana) as ana:
            for hid in ids[:2]:
                assert (await ana.post(f"/v1/handoffs/{hid}/claim")).status_code == 200
            r = await ana.post(f"/v1/handoffs/{ids[2]}/claim")
            assert r.status_code == 409
            detail = r.json()["detail"]
            assert detail["code"] == "capacity_reached" and detail["held"] == 2 and detail["limit"] == 2
            assert (await _status(ana, ids[2]))["status"] == "queued"  # nothing changed
            assert (await ana.get("/v1/assignment")).json()["held"] == 2
            assert (await ana.post(f"/v1/handoffs/{ids[0]}/release")).status_code == 200
            assert (await ana.post(f"/v1/handoffs/{ids[2]}/claim")).status_code == 200  # freed at once
            assert (await ana.post(f"/v1/handoffs/{ids[3]}/claim")).status_code == 409
            assert (await ana.post(f"/v1/handoffs/{ids[1]}/resolve")).status_code == 200
            assert (await ana.post(f"/v1/handoffs/{ids[3]}/claim")).status_code == 200
            # claiming what you already hold is still a 200, at capacity too
            assert (await ana.post(f"/v1/handoffs/{ids[3]}/claim")).status_code == 200
        async with ws.client(ws.ben) as ben:  # a per-agent limit
            r = await ben.post("/v1/agents", json={"name": "dee", "skills": ["all"], "max_active": 1})
            assert r.status_code == 201 and r.json()["agent"]["max_active"] == 1
            dee_token = r.json()["token"]
            r = await ben.post("/v1/agents", json={"name": "eve", "skills": ["all"], "max_active": -1})
            assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == "max_active"
        async with ws.client(dee_token) as dee:
            more = [(await ws.handoff(conversation=_conv(f"D {i}")))["handoff"]["id"] for i in range(2)]
            assert (await dee.post(f"/v1/handoffs/{more[0]}/claim")).status_code == 200
            r = await dee.post(f"/v1/handoffs/{more[1]}/claim")
            assert r.status_code == 409 and r.json()["detail"]["limit"] == 1


async def test_a_requeue_frees_the_slot(database_url: str) -> None:
    with open_workspace(database_url, max_active_per_agent=1, **FAST) as ws:
        a = (await ws.handoff())["handoff"]["id"]
        b = (await ws.handoff(conversation=_conv("B Co")))["handoff"]["id"]
        async with ws.client(ws.ana) as ana, SSEReader(ana) as stream:
            assert (await ana.post(f"/v1/handoffs/{a}/claim")).status_code == 200
            assert (await ana.post(f"/v1/handoffs/{b}/claim")).status_code == 409
            await stream.wait_for(lambda ev: _types(ev, "handoff.requeued", a))
            assert (await ana.post(f"/v1/handoffs/{b}/claim")).status_code == 200


# --- colleague notes --------------------------------------------------------------------------


async def test_any_agent_may_note_buyers_never_see_it_and_mentions_notify(database_url: str, sse) -> None:
    with open_workspace(database_url, reply_timeout_s=0) as ws:
        created = await ws.handoff()
        hid, cid, buyer_token = (
            created["handoff"]["id"],
            created["handoff"]["conversation_id"],
            created["buyer_token"],
        )
        async with (
            ws.client(ws.ana) as ana,
            ws.client(ws.cy) as cy,
            ws.client(buyer_token) as buyer,
            sse(ana) as ana_stream,
            sse(buyer) as buyer_stream,
        ):
            assert (await ana.post(f"/v1/handoffs/{hid}/claim")).status_code == 200
            body = "@ana ask Lena, she did this retrofit"
            r = await cy.post(f"/v1/conversations/{cid}/messages", json={"body": body, "internal": True})
            assert (
                r.status_code == 201 and r.json()["internal"] is True and r.json()["author_kind"] == "agent"
            )
            # a non-holder still may not write to the buyer
            r = await cy.post(f"/v1/conversations/{cid}/messages", json={"body": "hi buyer"})
            assert r.status_code == 409 and r.json()["detail"]["code"] == "claimed_by_other"
            events = await ana_stream.wait_for(lambda ev: _types(ev, "agent.mentioned"))
            [mention] = _types(events, "agent.mentioned")
            assert mention["data"]["agent_id"] == ws.ana_id and mention["data"]["message"]["body"] == body
            r = await ana.post(f"/v1/conversations/{cid}/messages", json={"body": "Thanks, on it"})
            assert r.status_code == 201
            await buyer_stream.wait_for(
                lambda ev: any(e["data"].get("message", {}).get("body") == "Thanks, on it" for e in ev)
            )
            assert not any("retrofit" in str(e) for e in buyer_stream.events)
            assert not _types(buyer_stream.events, "agent.mentioned")
            r = await buyer.get(f"/v1/conversations/{cid}")
            assert not any("retrofit" in m["body"] for m in r.json()["messages"])
            assert any("retrofit" in m["body"] for m in (await _status(ana, hid))["conversation"]["messages"])


# --- transfer -----------------------------------------------------------------------------------


async def test_transfer_to_a_colleague_keeps_packet_and_transcript(database_url: str, sse) -> None:
    with open_workspace(database_url, reply_timeout_s=0) as ws:
        created = await ws.handoff(packet=packet(), required_skills=["drives"])
        hid, cid, buyer_token = (
            created["handoff"]["id"],
            created["handoff"]["conversation_id"],
            created["buyer_token"],
        )
        async with ws.client(ws.ana) as ana, ws.client(ws.ben) as ben, sse(ben) as ben_stream:
            assert (await ana.post(f"/v1/handoffs/{hid}/claim")).status_code == 200
            before = await _status(ana, hid)
            r = await ana.post(
                f"/v1/handoffs/{hid}/transfer",
                json={"to_agent": ws.ben_id, "note": "He wants the 24 V version"},
            )
            assert r.status_code == 200, r.text
            assert (
                r.json()["claimed_by"] == {"id": ws.ben_id, "name": "Ben Okafor"}
                and r.json()["status"] == "claimed"
            )
            events = await ben_stream.wait_for(lambda ev: _types(ev, "handoff.transferred", hid))
            [moved] = _types(events, "handoff.transferred", hid)
            assert (
                moved["data"]["to_agent_id"] == ws.ben_id
                and moved["data"]["from_agent_name"] == "Ana Petrova"
            )
            after = await _status(ben, hid)
            assert after["packet"] == before["packet"]
            old = [m["body"] for m in before["conversation"]["messages"]]
            new = [m["body"] for m in after["conversation"]["messages"]]
            assert new[: len(old)] == old
            assert "Ben Okafor, our drives specialist, is taking over" in new
            assert any(m["internal"] and "24 V" in m["body"] for m in after["conversation"]["messages"])
            # the old holder can no longer act on it; the new one can reply
            assert (
                await ana.post(f"/v1/conversations/{cid}/messages", json={"body": "x"})
            ).status_code == 409
            assert (
                await ben.post(f"/v1/conversations/{cid}/messages", json={"body": "Ben here"})
            ).status_code == 201
        async with ws.client(buyer_token) as buyer:
            messages = (await buyer.get(f"/v1/conversations/{cid}")).json()["messages"]
            assert any(m["body"] == "Ben Okafor, our drives specialist, is taking over" for m in messages)
            assert not any("24 V" in m["body"] for m in messages)


async def test_transfer_to_a_colleague_at_capacity_changes_nothing(database_url: str) -> None:
    with open_workspace(database_url, reply_timeout_s=0, max_active_per_agent=1) as ws:
        a = (await ws.handoff())["handoff"]["id"]
        b = (await ws.handoff(conversation=_conv("B Co")))["handoff"]["id"]
        async with ws.client(ws.ana) as ana, ws.client(ws.ben) as ben:
            assert (await ana.post(f"/v1/handoffs/{a}/claim")).status_code == 200
            assert (await ben.post(f"/v1/handoffs/{b}/claim")).status_code == 200
            before = await _status(ana, a)
            r = await ana.post(f"/v1/handoffs/{a}/transfer", json={"to_agent": ws.ben_id})
            assert r.status_code == 409
            assert r.json()["detail"]["code"] == "capacity_reached" and r.json()["detail"]["held"] == 1
            after = await _status(ana, a)
            assert after["claimed_by"]["id"] == ws.ana_id
            assert len(after["conversation"]["messages"]) == len(before["conversation"]["messages"])
            # not the holder: refused too
            r = await ben.post(f"/v1/handoffs/{a}/transfer", json={"to_skills": ["pumps"]})
            assert r.status_code == 409 and r.json()["detail"]["code"] == "claimed_by_other"
            r = await ana.post(
                f"/v1/handoffs/{a}/transfer", json={"to_agent": ws.ben_id, "to_skills": ["pumps"]}
            )
            assert r.status_code == 422
            r = await ana.post(f"/v1/handoffs/{a}/transfer", json={"to_agent": "agt_nobody"})
            assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "to_agent"]


async def test_transfer_to_skills_requeues_with_those_skills(database_url: str) -> None:
    with open_workspace(database_url, reply_timeout_s=0) as ws:
        a = (await ws.handoff())["handoff"]["id"]
        async with ws.client(ws.ana) as ana, ws.client(ws.cy) as cy:
            assert (await ana.post(f"/v1/handoffs/{a}/claim")).status_code == 200
            r = await ana.post(
                f"/v1/handoffs/{a}/transfer", json={"to_skills": ["pumps"], "note": "pump side"}
            )
            assert r.status_code == 200, r.text
            assert r.json()["status"] == "queued" and r.json()["required_skills"] == ["pumps"]
            mine = [h["id"] for h in (await cy.get("/v1/handoffs?mine=true")).json()["items"]]
            assert a in mine
            assert (await cy.post(f"/v1/handoffs/{a}/claim")).status_code == 200
            team = {c["agent"]["name"]: c for c in (await cy.get("/v1/team")).json()}
            assert team["cy"]["held"] == 1 and team["ana"]["held"] == 0


_ = Workspace  # (fixture type used by the helpers above)
