"""Presence, who is viewing, and saved replies (issue 12 items 4 and 6), on a real hub over
HTTP, SQLite and PostgreSQL; `warmline replies add|list|remove`."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from typing import Any

from tests.hub.conftest import SSEReader, open_workspace


def _of(events: list[dict[str, Any]], kind: str, **data: Any) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == kind and all(e["data"].get(k) == v for k, v in data.items())]


async def test_presence_and_viewing_follow_the_console(database_url: str) -> None:
    with open_workspace(database_url, reply_timeout_s=0) as ws:
        hid = (await ws.handoff())["handoff"]["id"]
        async with ws.client(ws.ben) as ben, SSEReader(ben) as ben_stream:
            assert (await ben.post("/v1/presence", json={"status": "online"})).status_code == 200
            await ben_stream.wait_for(lambda ev: _of(ev, "presence", agent_id=ws.ben_id, status="online"))
            ana = ws.client(ws.ana)
            ana_stream = SSEReader(ana)
            await ana_stream.__aenter__()
            assert (await ana.post("/v1/presence", json={"status": "online"})).status_code == 200
            await ben_stream.wait_for(lambda ev: _of(ev, "presence", agent_id=ws.ana_id, status="online"))
            r = await ana.post("/v1/presence", json={"viewing": hid})
            assert r.status_code == 200 and r.json() == {
                "agent_id": ws.ana_id,
                "agent_name": "Ana Petrova",
                "status": "online",
                "viewing": hid,
            }
            events = await ben_stream.wait_for(
                lambda ev: _of(ev, "viewing", agent_id=ws.ana_id, handoff_id=hid)
            )
            assert _of(events, "viewing", agent_id=ws.ana_id)[0]["handoff_id"] == hid
            assert (await ben.post("/v1/presence", json={"viewing": hid})).status_code == 200
            listed = {s["agent_name"]: s for s in (await ben.get("/v1/presence")).json()}
            assert listed["Ana Petrova"]["viewing"] == hid and listed["Ben Okafor"]["viewing"] == hid
            # the same report again changes nothing: no second event
            assert (await ana.post("/v1/presence", json={"viewing": hid})).status_code == 200
            assert (await ana.post("/v1/presence", json={"status": "away"})).status_code == 200
            await ben_stream.wait_for(lambda ev: _of(ev, "presence", agent_id=ws.ana_id, status="away"))
            assert len(_of(ben_stream.events, "viewing", agent_id=ws.ana_id, handoff_id=hid)) == 1
            # the console's stream drops: offline, and no longer viewing
            await ana_stream.__aexit__(None, None, None)
            await ana.aclose()
            await ben_stream.wait_for(lambda ev: _of(ev, "presence", agent_id=ws.ana_id, status="offline"))
            await ben_stream.wait_for(lambda ev: _of(ev, "viewing", agent_id=ws.ana_id, handoff_id=None))
            listed = {s["agent_name"] for s in (await ben.get("/v1/presence")).json()}
            assert listed == {"Ben Okafor"}
            r = await ben.post("/v1/presence", json={"status": "offline"})
            assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "status"]
        async with ws.client(ws.bot) as bot:
            assert (await bot.post("/v1/presence", json={"status": "away"})).status_code == 403


async def test_buyers_never_get_presence(database_url: str) -> None:
    with open_workspace(database_url, reply_timeout_s=0) as ws:
        created = await ws.handoff()
        async with ws.client(created["buyer_token"]) as buyer, SSEReader(buyer) as buyer_stream:
            async with ws.client(ws.ana) as ana, SSEReader(ana) as ana_stream:
                assert (await ana.post("/v1/presence", json={"status": "online"})).status_code == 200
                await ana_stream.wait_for(lambda ev: _of(ev, "presence", agent_id=ws.ana_id))
                await ana.post("/v1/presence", json={"viewing": created["handoff"]["id"]})
                cid = created["handoff"]["conversation_id"]
                await ws.client(ws.bot).post(f"/v1/conversations/{cid}/messages", json={"body": "marker"})
            await buyer_stream.wait_for(lambda ev: any("marker" in str(e) for e in ev))
            assert not [e for e in buyer_stream.events if e["type"] in ("presence", "viewing")]


async def test_saved_replies_api(database_url: str) -> None:
    with open_workspace(database_url, reply_timeout_s=0) as ws:
        async with ws.client(ws.ana) as ana:
            body = "Hi {buyer_first_name}, the {sku} ships from stock. {agent_name}, {company}"
            r = await ana.post("/v1/replies", json={"shortcut": "stock", "body": body})
            assert r.status_code == 201, r.text
            assert r.json()["placeholders"] == ["buyer_first_name", "sku", "agent_name", "company"]
            assert r.json()["created_by"] == "Ana Petrova"
            r = await ana.post("/v1/replies", json={"shortcut": "stock", "body": "again"})
            assert r.status_code == 409 and r.json()["detail"]["code"] == "shortcut_taken"
            r = await ana.post("/v1/replies", json={"shortcut": "bad", "body": "Dear {first}"})
            assert r.status_code == 422 and "unknown placeholder {first}" in r.json()["detail"][0]["msg"]
            r = await ana.post("/v1/replies", json={"shortcut": "Bad Name", "body": "x"})
            assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "shortcut"]
            assert (
                await ana.post("/v1/replies", json={"shortcut": "thanks", "body": "Thanks!"})
            ).status_code == 201
            assert [x["shortcut"] for x in (await ana.get("/v1/replies")).json()] == ["stock", "thanks"]
            assert (await ana.delete("/v1/replies/thanks")).status_code == 204
            assert (await ana.delete("/v1/replies/thanks")).status_code == 404
            assert [x["shortcut"] for x in (await ana.get("/v1/replies")).json()] == ["stock"]
        async with ws.client(ws.bot) as bot:
            assert (await bot.get("/v1/replies")).status_code == 200
            assert (await bot.post("/v1/replies", json={"shortcut": "x", "body": "y"})).status_code == 403


def test_replies_cli(sqlite_url: str) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "warmline.cli", "replies", *args, "--database-url", sqlite_url]
        return subprocess.run(command, capture_output=True, text=True)

    assert cli("add", "hello", "Hello {buyer_first_name}!").returncode == 0
    bad = cli("add", "oops", "Hello {name}")
    assert bad.returncode == 2 and "unknown placeholder {name}" in bad.stderr
    listed = cli("list")
    assert listed.returncode == 0 and listed.stdout.strip() == "#hello\tHello {buyer_first_name}!"
    assert cli("remove", "hello").returncode == 0
    gone = cli("remove", "hello")
    assert gone.returncode == 1 and "not found" in gone.stderr
    assert cli("list").stdout.strip() == ""


_ = asyncio
