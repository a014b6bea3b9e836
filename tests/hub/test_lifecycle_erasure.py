"""Erasure (issue 17 item 4), both databases, two hub instances: after
`DELETE /v1/conversations/{id}/personal-data` (or `warmline erase`) no endpoint, stream
(from memory or from the log, on either instance) or search returns the buyer's name,
email, message text or packet text; counts, positions, timings, reasons and SKUs stay;
the buyer's token stops working; the erasure is audited."""

from __future__ import annotations

import asyncio
import json

import httpx
from tests.hub.conftest import SSEReader, Workspace, bearer, start_hub
from tests.hub.test_lifecycle_tokens import cli, status

SECRETS = ("Bo Buyer", "bo@example.com", "555-0199", "gearbox replacement", "Replace a conveyor gearbox")


async def _setup(ws: Workspace) -> tuple[str, str, str, int]:
    created = await ws.handoff()
    cid, hid = created["handoff"]["conversation_id"], created["handoff"]["id"]
    buyer = created["buyer_token"]
    async with ws.client(buyer) as b:
        r = await b.post(
            f"/v1/conversations/{cid}/messages", json={"body": "call me: 555-0199", "author_kind": "buyer"}
        )
        assert r.status_code == 201, r.text
    async with ws.client(ws.ben) as ben:
        assert (await ben.post(f"/v1/handoffs/{hid}/claim")).status_code == 200
        r = await ben.post(
            f"/v1/conversations/{cid}/messages", json={"body": "Bo Buyer, noted (bo@example.com)"}
        )
        assert r.status_code == 201, r.text
        end = (await ben.get("/v1/handoffs")).json()["last_event_id"]
    return cid, hid, buyer, end


async def _stream_text(url: str, token: str, end: int) -> str:
    async with (
        httpx.AsyncClient(base_url=url, headers=bearer(token), timeout=30) as c,
        SSEReader(c, last_event_id=0) as s,
    ):
        events = await s.wait_for(lambda ev: bool(ev) and ev[-1]["id"] >= end)
    return json.dumps(events)


async def _everything(url: str, token: str, cid: str, hid: str, end: int) -> str:
    async with httpx.AsyncClient(base_url=url, headers=bearer(token), timeout=30) as c:
        parts = [
            (await c.get(f"/v1/conversations/{cid}")).text,
            (await c.get(f"/v1/handoffs/{hid}")).text,
            (await c.get("/v1/handoffs", params={"status": "queued,claimed,resolved"})).text,
            (await c.get("/v1/conversations", params={"q": "Bo"})).text,
            (await c.get("/v1/conversations", params={"q": "555-0199"})).text,
        ]
    return "\n".join(parts) + await _stream_text(url, token, end)


async def test_erase_over_http_leaves_no_personal_data(workspace: Workspace, database_url: str) -> None:
    cid, hid, buyer, end = await _setup(workspace)
    async with workspace.client(workspace.ben) as ben:
        before = (await ben.get(f"/v1/conversations/{cid}")).json()
        assert "555-0199" in await _everything(workspace.url, workspace.ben, cid, hid, end)
        async with workspace.client(workspace.ana) as ana:
            r = await ana.delete(f"/v1/conversations/{cid}/personal-data")
            assert r.status_code == 403  # only a specialist with all skills
        assert (await ben.delete("/v1/conversations/cnv_nope/personal-data")).status_code == 404
        r = await ben.delete(f"/v1/conversations/{cid}/personal-data")
        assert r.status_code == 200, r.text
        assert r.json()["messages"] == len(before["messages"]) and r.json()["handoffs"] == 1
        after = (await ben.get(f"/v1/conversations/{cid}")).json()
    # counts, positions and timings stay
    assert [(m["seq"], m["created_at"], m["author_kind"]) for m in after["messages"]] == [
        (m["seq"], m["created_at"], m["author_kind"]) for m in before["messages"]
    ]
    assert {m["body"] for m in after["messages"]} == {"[erased]"}
    other = start_hub(database_url)  # a second instance: its streams replay from the log
    try:
        assert other.base_url is not None
        for url in (workspace.url, other.base_url):
            seen = await _everything(url, workspace.ben, cid, hid, end)
            for secret in SECRETS:
                assert secret not in seen, (url, secret)
            assert "GX-220" in seen  # SKUs are not personal data
        assert await status(workspace.url, buyer) == 401
    finally:
        other.stop()
    async with workspace.client(workspace.ben) as ben:
        detail = (await ben.get(f"/v1/handoffs/{hid}")).json()
    assert detail["status"] == "claimed" and detail["reason"] == "purchase_intent" and detail["claimed_at"]
    entries = [
        json.loads(x) for x in (await cli("audit", "--json", "--database-url", database_url)).splitlines()
    ]
    erase = [e for e in entries if e["action"] == "erase"]
    assert erase and erase[0]["target"] == cid and erase[0]["actor"] == "agent:ben"


async def test_cli_erase_redacts_the_other_instances_memory(workspace: Workspace, database_url: str) -> None:
    other = start_hub(database_url)  # started first: the events will be in its feed's memory
    try:
        assert other.base_url is not None
        cid, hid, _buyer, end = await _setup(workspace)
        assert "555-0199" in await _stream_text(other.base_url, workspace.ben, end)
        await cli("erase", "--conversation", cid, "--database-url", database_url)
        loop = asyncio.get_running_loop()
        for url in (other.base_url, workspace.url):  # the CLI is a third process: both instances
            deadline = loop.time() + 10  # redact their feeds' memory within seconds (next poll)
            while True:
                seen = await _everything(url, workspace.ben, cid, hid, end)
                leaked = [secret for secret in SECRETS if secret in seen]
                if not leaked or loop.time() > deadline:
                    break
                await asyncio.sleep(0.2)
            assert not leaked, f"{url} still returns {leaked} after the erasure"
    finally:
        other.stop()
