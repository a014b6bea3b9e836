"""Every kind of assistant job end to end: POST, the event stream until assist.completed, the
result checked against the catalog's own answers (its HTTP routes), and the internal note.

Real hub over real HTTP, demo catalog, SQLite and PostgreSQL.
"""

from __future__ import annotations

from typing import Any

from .conftest import SSEReader, Workspace, open_handoff, run_job


async def _catalog(ws: Workspace, path: str, **params: Any) -> Any:
    async with ws.client(ws.ana) as c:
        r = await c.get(f"/v1/catalog{path}", params=params)
    assert r.status_code == 200, r.text
    return r.json()


async def test_spec_sheets_arrive_with_progress_and_are_recorded_as_an_internal_note(workspace) -> None:
    ws = workspace
    created = await open_handoff(ws)
    handoff = created["handoff"]
    job, events = await run_job(ws, handoff["id"], {"kind": "spec", "skus": ["GX-240", "GX-180"]})

    types = [e["type"] for e in events]
    assert types[0] == "assist.started" and "assist.completed" in types
    assert types.count("assist.progress") >= 3  # running, then one per SKU
    assert all(e["handoff_id"] == handoff["id"] for e in events)
    assert all(e["conversation_id"] == handoff["conversation_id"] for e in events)
    assert job["status"] == "done" and job["progress"] == 1.0 and job["finished_at"]

    result = job["result"]
    sheets = result["data"]["sheets"]
    assert [s["product"]["sku"] for s in sheets] == ["GX-240", "GX-180"]
    for sheet in sheets:  # the job's sheet is the catalog's sheet
        assert sheet == await _catalog(ws, f"/products/{sheet['product']['sku']}")
    torque = next(a for a in sheets[0]["attributes"] if a["name"] == "torque")
    assert f"Torque: {torque['value']} (source: GX-240 datasheet)" in result["text"]
    assert "sources disagree" in result["text"] and "250 N·m" in result["text"]  # the manual's conflict
    assert "replaced by GX-200 -> GX-220" in result["text"]
    titles = {c["title"] for c in result["citations"]}
    assert {"GX-240 datasheet", "GX-240 operating manual (rev. B)", "GX-180 datasheet"} <= titles

    # The note: one internal message.created in the stream, recorded on the job.
    [note_event] = [e for e in events if e["type"] == "message.created"]
    note = note_event["data"]["message"]
    assert note["internal"] is True and note["author_kind"] == "ai" and note["author_name"] == "Assistant"
    assert note["assist_job_id"] == job["id"] and note["id"] == job["note_message_id"]
    assert (
        note["body"].startswith(result["text"])
        and "\nSources:\n- GX-240 datasheet (datasheet)" in note["body"]
    )

    # Specialists (any of them) see it in the thread; the buyer never does.
    async with ws.client(ws.ben) as c:
        detail = (await c.get(f"/v1/handoffs/{handoff['id']}")).json()
        conv = (await c.get(f"/v1/conversations/{handoff['conversation_id']}")).json()
    for messages in (detail["conversation"]["messages"], conv["messages"]):
        assert [m["id"] for m in messages if m["internal"]] == [note["id"]]
    async with ws.client(created["buyer_token"]) as c:
        r = await c.get(f"/v1/conversations/{handoff['conversation_id']}")
    assert r.status_code == 200
    assert r.json()["messages"] and all(not m["internal"] for m in r.json()["messages"])
    assert note["id"] not in {m["id"] for m in r.json()["messages"]}


async def test_the_buyers_event_stream_never_carries_assist_events_or_the_note(workspace) -> None:
    ws = workspace
    created = await open_handoff(ws)
    handoff = created["handoff"]
    async with ws.client(created["buyer_token"]) as buyer, SSEReader(buyer, last_event_id=0) as buyer_stream:
        job, _ = await run_job(ws, handoff["id"], {"kind": "acc", "skus": ["GX-220"]})
        assert job["status"] == "done"
        note_id = job["note_message_id"]
        # Then the buyer writes; once that arrives, everything before it has been filtered.
        r = await buyer.post(
            f"/v1/conversations/{handoff['conversation_id']}/messages", json={"body": "any news?"}
        )
        assert r.status_code == 201, r.text
        seen = await buyer_stream.wait_for(
            lambda evs: any(
                e["type"] == "message.created" and e["data"]["message"]["body"] == "any news?" for e in evs
            )
        )
    assert seen, "the buyer stream delivered nothing"
    assert {e["type"] for e in seen} <= {"conversation.created", "message.created"}
    assert not any(e["type"].startswith("assist.") for e in seen)
    assert all(not e["data"]["message"]["internal"] for e in seen if e["type"] == "message.created")
    assert note_id not in {e["data"]["message"]["id"] for e in seen if e["type"] == "message.created"}
    # ...while the agent's stream had them all (replayed from the start of the log).
    async with ws.client(ws.ana) as agent, SSEReader(agent, last_event_id=0) as agent_stream:
        await agent_stream.wait_for(
            lambda evs: any(
                e["type"] == "message.created" and e["data"]["message"]["id"] == note_id for e in evs
            )
        )
        assert any(e["type"] == "assist.completed" for e in agent_stream.events)


async def test_substitutes_are_checked_against_the_packets_constraints(workspace) -> None:
    ws = workspace
    handoff = (await open_handoff(ws))["handoff"]
    job, _ = await run_job(ws, handoff["id"], {"kind": "subs", "skus": ["GX-180"]})
    assert job["status"] == "done", job["error"]
    data = job["result"]["data"]
    assert data["constraints_from"] == "packet"
    assert data["constraints"] == ["torque ≥ 230 N·m", "ip ≥ IP65"]
    # The packet's unreadable constraint is skipped, and the text says so.
    assert len(data["skipped_constraints"]) == 1 and "colour of the paint" in data["skipped_constraints"][0]
    assert "Not checked (could not read): colour of the paint" in job["result"]["text"]

    expected = await _catalog(
        ws, "/products/GX-180/substitutes", constraint=["torque>=230Nm", "ip>=IP65"], limit=5
    )
    assert data["candidates"] == expected
    verdicts = {
        c["product"]["sku"]: {v["constraint"]: v["verdict"] for v in c["verdicts"]}
        for c in data["candidates"]
    }
    assert verdicts["GX-220"]["torque ≥ 230 N·m"] == "fails"  # the successor has 220 N·m
    assert data["candidates"][0]["product"]["sku"] == "GX-220" and data["candidates"][0]["via_supersession"]
    assert "torque ≥ 230 N·m: fails (220 N·m" in job["result"]["text"]

    # Constraints given in the request replace the packet's.
    job, _ = await run_job(
        ws, handoff["id"], {"kind": "subs", "skus": ["GX-180"], "constraints": ["torque>=200Nm"]}
    )
    data = job["result"]["data"]
    assert data["constraints_from"] == "request" and data["constraints"] == ["torque ≥ 200 N·m"]
    assert data["skipped_constraints"] == []
    first = data["candidates"][0]
    assert first["product"]["sku"] == "GX-220"
    assert [(v["constraint"], v["verdict"]) for v in first["verdicts"] if not v["implicit"]] == [
        ("torque ≥ 200 N·m", "meets")
    ]


async def test_accessories_compare_summary_and_search(workspace) -> None:
    ws = workspace
    handoff = (await open_handoff(ws))["handoff"]

    job, _ = await run_job(ws, handoff["id"], {"kind": "acc", "skus": ["GX-220"]})
    items = await _catalog(ws, "/products/GX-220/accessories")
    assert items and job["result"]["data"]["items"] == items
    assert f"- {items[0]['product']['sku']} — {items[0]['product']['name']}" in job["result"]["text"]

    job, events = await run_job(
        ws, handoff["id"], {"kind": "compare", "skus": ["GX-220", "GX-240", "GX-180"]}
    )
    assert sum(e["type"] == "assist.progress" for e in events) >= 4
    rows = {r["attribute"]: r for r in job["result"]["data"]["rows"]}
    assert rows["torque"]["values"] == ["220 N·m", "240 N·m", "180 N·m"] and rows["torque"]["differs"]
    assert rows["voltage"]["values"] == ["400 V", "400 V", "400 V"] and not rows["voltage"]["differs"]
    assert rows["mass"]["values"][2] is None and rows["mass"]["differs"]  # GX-180 states no weight
    assert "Torque: GX-220 220 N·m, GX-240 240 N·m, GX-180 180 N·m" in job["result"]["text"]
    assert "Mass: GX-220 18.5 kg, GX-240 19.2 kg, GX-180 not stated" in job["result"]["text"]

    # The summary finds the document among the packet's SKUs (GX-220 is in the packet).
    job, _ = await run_job(ws, handoff["id"], {"kind": "summary", "document": "GX-220 operating manual"})
    assert job["status"] == "done", job["error"]
    data = job["result"]["data"]
    assert data["sku"] == "GX-220" and data["document"]["title"] == "GX-220 operating manual (rev. C)"
    assert "Rated torque: 220 N·m" in data["points"] and "Check oil level every 10,000 h." in data["points"]
    assert job["result"]["citations"] == [
        {
            "sku": "GX-220",
            "title": "GX-220 operating manual (rev. C)",
            "kind": "manual",
            "ref": data["document"]["ref"],
        }
    ]
    async with ws.client(ws.ana) as c:  # no such document: refused at once, naming the ones there are
        r = await c.post(
            f"/v1/handoffs/{handoff['id']}/assist", json={"kind": "summary", "document": "poster"}
        )
    assert r.status_code == 422, r.text
    [error] = r.json()["detail"]
    assert error["loc"] == ["body", "document"]
    assert error["msg"].startswith("no document matching 'poster' for GX-180, GX-220; documents: ")
    assert "GX-220 operating manual (rev. C)" in error["msg"]

    # A part with only marketing copy is flagged as such.
    job, _ = await run_job(ws, handoff["id"], {"kind": "spec", "skus": ["MK-PU-000"]})
    assert (
        "IP rating: IP67 (source: MK-PU-000 brochure) ⚠ marketing copy only, not verified"
        in job["result"]["text"]
    )
    assert "Evidence: marketing copy only" in job["result"]["text"]

    job, _ = await run_job(ws, handoff["id"], {"kind": "search", "query": "washdown family:gearbox ip>=66"})
    hits = await _catalog(ws, "/search", q="washdown family:gearbox ip>=66", limit=10)
    assert hits and job["result"]["data"]["hits"] == hits
    assert job["result"]["text"].startswith(f"{len(hits)} results for 'washdown family:gearbox ip>=66'")


async def test_draft_reply_is_a_template_grounded_in_the_packet_and_the_catalog(workspace) -> None:
    ws = workspace
    handoff = (await open_handoff(ws))["handoff"]
    job, _ = await run_job(ws, handoff["id"], {"kind": "draft"})
    result = job["result"]
    assert result["data"]["phrased_by"] == "template" and result["data"]["grounded"] is True
    text = result["text"]
    assert "You're looking to replace a discontinued GX-180 conveyor gearbox." in text
    gx220 = await _catalog(ws, "/products/GX-220")
    torque = next(a["value"] for a in gx220["attributes"] if a["name"] == "torque")
    assert f"torque {torque}" in text and "(per the GX-220 datasheet)" in text
    assert "It does not meet torque ≥ 230 N·m (220 N·m)." in text
    assert "GX-180 is discontinued; its current successor is GX-220." in text
    assert "Still open: Lead time to Rotterdam." in text
    assert "colour of the paint" in text  # not checkable: the reply promises to check it
    assert {"GX-220 datasheet", "GX-180 datasheet"} <= {c["title"] for c in result["citations"]}


async def test_jobs_are_listed_newest_first_and_readable_by_any_agent(workspace) -> None:
    ws = workspace
    handoff = (await open_handoff(ws))["handoff"]
    first, _ = await run_job(ws, handoff["id"], {"kind": "spec", "skus": ["GX-220"]})
    second, _ = await run_job(ws, handoff["id"], {"kind": "search", "query": "gearbox"}, token=ws.ben)
    async with ws.client(ws.cy) as c:  # a specialist picking the handoff up later
        page = (await c.get(f"/v1/handoffs/{handoff['id']}/assist")).json()
        one = (await c.get(f"/v1/assist/{first['id']}")).json()
    assert [j["id"] for j in page["items"]] == [second["id"], first["id"]]
    assert page["items"][0]["requested_by"]["name"] == "Ben Okafor"
    assert one == first and one["result"]["title"] == "Spec sheet: GX-220"
