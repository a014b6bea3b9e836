"""History routes on SQLite and PostgreSQL: find conversations by company, buyer name, SKU and
message text (``GET /v1/conversations``), and reopen a resolved one the buyer wrote in again."""

from __future__ import annotations

import pytest

from .conftest import Workspace, new_conversation, packet


async def make(ws: Workspace, company: str, buyer: str, sku: str, text: str) -> dict:
    conv = new_conversation(company)
    conv["buyer"]["name"] = buyer
    conv["messages"][0]["body"] = text
    return await ws.handoff(
        conversation=conv,
        packet=packet(
            summary=f"{company} needs live pricing.",
            products=[{"sku": sku, "name": f"{sku} gearbox", "family": "gearbox"}],
        ),
    )


def companies(page: dict) -> list[str]:
    return [i["handoff"]["buyer_company"] for i in page["items"]]


async def test_find_by_company_buyer_sku_and_message_text(workspace: Workspace) -> None:
    ws = workspace
    a = await make(ws, "Nordic Pulp AB", "Maja Lind", "GX-220", "Our conveyor stalls at 180 N·m.")
    b = await make(ws, "Kraft Oy", "Pekka Virta", "PM-40", "Need a 50% discount_code please")
    await make(ws, "Other Ltd", "Sam Hill", "HX-1", "hello")
    async with ws.client(ws.ana) as c:
        assert (await c.post(f"/v1/handoffs/{a['handoff']['id']}/claim")).status_code == 200
        assert (await c.post(f"/v1/handoffs/{a['handoff']['id']}/resolve")).status_code == 200

        async def find(**params) -> dict:
            r = await c.get("/v1/conversations", params=params)
            assert r.status_code == 200, r.text
            return r.json()

        assert companies(await find()) == ["Other Ltd", "Kraft Oy", "Nordic Pulp AB"]  # newest first
        assert companies(await find(q="nordic")) == ["Nordic Pulp AB"]  # company
        assert companies(await find(q="maja lind")) == ["Nordic Pulp AB"]  # buyer name, every word
        assert companies(await find(q="gx-220")) == ["Nordic Pulp AB"]  # SKU
        page = await find(q="stalls")  # message text, with a snippet
        assert companies(page) == ["Nordic Pulp AB"] and "stalls" in page["items"][0]["snippet"]
        assert companies(await find(q="conveyor pekka")) == []  # all words must match
        assert companies(await find(status="resolved")) == ["Nordic Pulp AB"]
        assert companies(await find(status="queued", q="oy")) == ["Kraft Oy"]
        # LIKE wildcards are text, not patterns
        assert companies(await find(q="50%")) == ["Kraft Oy"]
        assert companies(await find(q="%")) == ["Kraft Oy"]
        assert companies(await find(q="discount_code")) == ["Kraft Oy"]
        assert companies(await find(q="t_o")) == []
        assert companies(await find(q="x:-:y")) == [] and companies(await find(q="a:(:n)")) == []
        assert (await find(limit=1))["more"] is True
        # bad input: 422 naming the field
        r = await c.get("/v1/conversations", params={"status": "gone"})
        assert r.status_code == 422 and "status" in r.text
        r = await c.get("/v1/conversations", params={"q": " ".join("w" * 9)})
        assert r.status_code == 422 and "q" in r.text
        assert (await c.get("/v1/conversations", params={"limit": 0})).status_code == 422
    async with ws.client(ws.bot) as c:  # specialists only
        assert (await c.get("/v1/conversations")).status_code == 403
    buyer = b["buyer_token"]
    async with ws.client(buyer) as c:
        assert (await c.get("/v1/conversations")).status_code == 403


async def test_reopen_a_resolved_conversation_when_the_buyer_writes_again(workspace: Workspace) -> None:
    ws = workspace
    a = await make(ws, "Reopen AB", "Maja Lind", "GX-220", "First question")
    hid, conv = a["handoff"]["id"], a["handoff"]["conversation_id"]
    async with ws.client(ws.ana) as c:
        r = await c.post(f"/v1/conversations/{conv}/reopen")
        assert r.status_code == 409  # open already
        await c.post(f"/v1/handoffs/{hid}/claim")
        await c.post(f"/v1/handoffs/{hid}/resolve")
    async with ws.client(a["buyer_token"]) as c:
        r = await c.post(f"/v1/conversations/{conv}/messages", json={"body": "One more thing: 12 units?"})
        assert r.status_code == 201, r.text
    async with ws.client(ws.ana) as c:
        item = (await c.get("/v1/conversations", params={"q": "reopen"})).json()["items"][0]
        assert item["buyer_wrote_after_resolve"] is True and item["last_author_kind"] == "buyer"
        r = await c.post(f"/v1/conversations/{conv}/reopen")
        assert r.status_code == 201, r.text
        again = r.json()
        assert again["id"] != hid and again["status"] == "claimed" and again["claimed_by"]["id"] == ws.ana_id
        assert again["packet"]["products"][0]["sku"] == "GX-220"
        queue = (await c.get("/v1/handoffs")).json()["items"]
        assert [h["id"] for h in queue if h["conversation_id"] == conv] == [again["id"]]
        assert (await c.post(f"/v1/conversations/{conv}/reopen")).status_code == 409
        assert (await c.post("/v1/conversations/cnv_nope/reopen")).status_code == 404


@pytest.mark.parametrize("q", ["gearbox manufacturer:-:x", "manufacturer:(:n)", "\\", "'; drop table x; --"])
async def test_odd_search_text_is_text(workspace: Workspace, q: str) -> None:
    async with workspace.client(workspace.ana) as c:
        r = await c.get("/v1/conversations", params={"q": q})
        assert r.status_code == 200, r.text
        assert r.json()["items"] == []
