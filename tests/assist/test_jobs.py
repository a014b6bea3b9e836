"""Assistant jobs as jobs: bad input, auth, idempotent retries, cancelling, restarts, and the
optional language model for drafts (a fake OpenAI-compatible server over real HTTP).

Real hub over real HTTP, demo catalog, SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import update

from warmline.domain.assist import AssistKind, AssistRequest
from warmline.hub import assist_jobs
from warmline.hub.store.db import utcnow
from warmline.hub.store.tables import AssistJobRow

from .conftest import FakeLLM, SSEReader, Workspace, open_handoff, run_job, start_hub


def _errors(r: httpx.Response) -> list[tuple[list[Any], str]]:
    assert r.status_code == 422, r.text
    return [(e["loc"], e["msg"]) for e in r.json()["detail"]]


async def _job_events(ws: Workspace, job_id: str) -> list[dict[str, Any]]:
    """Everything in the log about a job (assist.* and its note), replayed from the start."""
    marker = f"marker-{job_id[-8:]}"
    await asyncio.to_thread(ws.hub.create_agent, marker, ["all"])  # an event after all of the job's
    async with ws.client(ws.ben) as c, SSEReader(c, last_event_id=0) as stream:
        events = await stream.wait_for(
            lambda evs: any(
                e["type"] == "agent.created" and e["data"]["agent"]["name"] == marker for e in evs
            )
        )
    return [
        e
        for e in events
        if (e["type"].startswith("assist.") and e["data"]["job"]["id"] == job_id)
        or (e["type"] == "message.created" and e["data"]["message"].get("assist_job_id") == job_id)
    ]


async def test_bad_requests_are_refused_with_the_field_and_nothing_is_queued(workspace) -> None:
    ws = workspace
    handoff = (await open_handoff(ws))["handoff"]
    url = f"/v1/handoffs/{handoff['id']}/assist"
    async with ws.client(ws.ana) as c:
        assert _errors(await c.post(url, json={"kind": "spec"})) == [
            (["body", "skus"], "spec needs at least one SKU")
        ]
        assert _errors(await c.post(url, json={"kind": "compare", "skus": ["GX-220"]})) == [
            (["body", "skus"], "compare needs 2 to 4 SKUs")
        ]
        assert _errors(await c.post(url, json={"kind": "summary"}))[0][0] == ["body", "document"]
        assert _errors(await c.post(url, json={"kind": "search", "query": " "}))[0][0] == ["body", "query"]
        assert _errors(await c.post(url, json={"kind": "poem"}))[0][0] == ["body", "kind"]
        assert _errors(await c.post(url, json={"kind": "spec", "skus": ["GX-220"], "colour": "red"}))[0][
            0
        ] == [
            "body",
            "colour",
        ]
        assert _errors(await c.post(url, content=b"{not json", headers={"Content-Type": "application/json"}))[
            0
        ][0] == ["body"]
        # Unknown SKUs are a fast 422 naming the SKU's position, with the closest SKUs.
        r = await c.post(url, json={"kind": "spec", "skus": ["GX-220", "GX-230"]})
        [(loc, msg)] = _errors(r)
        assert loc == ["body", "skus", 1]
        assert msg.startswith("unknown SKU 'GX-230'; closest: ") and "GX-220" in msg
        # ... the "did you mean" SKUs also as a field: no parsing of the message needed
        [error] = r.json()["detail"]
        assert error["closest"][:2] == ["GX-220", "GX-240"] or {"GX-220", "GX-240"} <= set(error["closest"])
        assert ", ".join(error["closest"]) in msg
        # an error without "did you mean" SKUs has no such field
        r = await c.post(url, json={"kind": "subs", "skus": ["GX-180"], "constraints": ["torque>=lots"]})
        assert "closest" not in r.json()["detail"][0]
        [(loc, msg)] = _errors(
            await c.post(url, json={"kind": "subs", "skus": ["GX-180"], "constraints": ["torque>=lots"]})
        )
        assert loc == ["body", "constraints", 0] and "cannot read" in msg
        [(loc, _msg)] = _errors(await c.post(url, json={"kind": "search", "query": "gearbox torque>=fast"}))
        assert loc == ["body", "query"]
        # 404s
        r = await c.post("/v1/handoffs/hnd_nope/assist", json={"kind": "spec", "skus": ["GX-220"]})
        assert r.status_code == 404 and r.json()["detail"]["code"] == "not_found"
        assert (await c.get("/v1/handoffs/hnd_nope/assist")).status_code == 404
        assert (await c.get("/v1/assist/asj_nope")).status_code == 404
        assert (await c.post("/v1/assist/asj_nope/cancel")).status_code == 404
        assert (await c.get(f"/v1/handoffs/{handoff['id']}/assist")).json() == {"items": []}


async def test_who_may_do_what(workspace) -> None:
    ws = workspace
    created = await open_handoff(ws)
    handoff = created["handoff"]
    url = f"/v1/handoffs/{handoff['id']}/assist"
    body = {"kind": "spec", "skus": ["GX-220"]}
    async with ws.client() as anonymous:
        assert (await anonymous.post(url, json=body)).status_code == 401
        assert (await anonymous.get(url)).status_code == 401
    for token in (created["buyer_token"], ws.bot):  # lookups are for specialists
        async with ws.client(token) as c:
            r = await c.post(url, json=body)
            assert r.status_code == 403 and r.json()["detail"]["code"] == "forbidden"
    async with ws.client(created["buyer_token"]) as c:
        assert (await c.get(url)).status_code == 403
    async with ws.client(ws.bot) as c:  # bots read like they read handoffs
        assert (await c.get(url)).status_code == 200

    # Any agent may assist on a queued or claimed handoff, not on a resolved one.
    job, _ = await run_job(ws, handoff["id"], body, token=ws.cy)
    assert job["status"] == "done" and job["requested_by"]["name"] == "cy"
    async with ws.client(ws.ben) as c:
        assert (await c.post(f"/v1/handoffs/{handoff['id']}/claim")).status_code == 200
        assert (await c.post(f"/v1/handoffs/{handoff['id']}/resolve")).status_code == 200
        r = await c.post(url, json=body)
        assert r.status_code == 409 and r.json()["detail"]["code"] == "resolved"
        assert len((await c.get(url)).json()["items"]) == 1  # history stays readable


async def test_a_retried_post_returns_the_same_job_and_runs_nothing_new(workspace) -> None:
    ws = workspace
    handoff = (await open_handoff(ws))["handoff"]
    url = f"/v1/handoffs/{handoff['id']}/assist"
    body = {"kind": "spec", "skus": ["GX-220"]}
    async with ws.client(ws.ana) as c:
        first = await c.post(url, json=body, headers={"Idempotency-Key": "k-1"})
        again = await c.post(url, json=body, headers={"Idempotency-Key": "k-1"})
        assert first.status_code == again.status_code == 202
        assert first.json() == again.json()
        other = await c.post(url, json={**body, "skus": ["GX-240"]}, headers={"Idempotency-Key": "k-1"})
        assert other.status_code == 422 and other.json()["detail"]["code"] == "idempotency_key_reused"
        job_id = first.json()["id"]
        for _ in range(500):
            job = (await c.get(f"/v1/assist/{job_id}")).json()
            if job["status"] == "done":
                break
            await asyncio.sleep(0.01)
        assert job["status"] == "done"
        # after it finished, the retry still answers the first (queued) response and starts nothing
        third = await c.post(url, json=body, headers={"Idempotency-Key": "k-1"})
        assert third.status_code == 202 and third.json()["id"] == job_id
        assert [j["id"] for j in (await c.get(url)).json()["items"]] == [job_id]
    events = await _job_events(ws, job_id)
    assert [e["type"] for e in events].count("assist.started") == 1
    assert [e["type"] for e in events].count("message.created") == 1  # one note


async def test_cancel_a_running_job_writes_no_note_and_a_second_cancel_is_409(
    fake_llm: FakeLLM, workspace
) -> None:
    ws = workspace
    fake_llm.mode = "hang"  # the draft waits on the model: a job that is surely still running
    handoff = (await open_handoff(ws))["handoff"]
    async with ws.client(ws.ana) as ana, SSEReader(ana) as stream:
        r = await ana.post(f"/v1/handoffs/{handoff['id']}/assist", json={"kind": "draft"})
        job_id = r.json()["id"]
        await asyncio.to_thread(fake_llm.waiting.wait, 20)
        assert fake_llm.waiting.is_set()
        assert (await ana.get(f"/v1/assist/{job_id}")).json()["status"] == "running"
        async with ws.client(ws.cy) as cy:  # neither the requester nor the holder
            r = await cy.post(f"/v1/assist/{job_id}/cancel")
            assert r.status_code == 403
        r = await ana.post(f"/v1/assist/{job_id}/cancel")
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "cancelled" and r.json()["finished_at"]
        await stream.wait_for(
            lambda evs: any(e["type"] == "assist.cancelled" and e["data"]["job"]["id"] == job_id for e in evs)
        )
        r = await ana.post(f"/v1/assist/{job_id}/cancel")
        assert r.status_code == 409 and r.json()["detail"]["code"] == "already_finished"
        fake_llm.release()
        # a job finished after the cancel stays cancelled, without a result or a note
        done, _ = await run_job(ws, handoff["id"], {"kind": "spec", "skus": ["GX-220"]})
        job = (await ana.get(f"/v1/assist/{job_id}")).json()
        assert job["status"] == "cancelled" and job["result"] is None and job["note_message_id"] is None
        conv = (await ana.get(f"/v1/conversations/{handoff['conversation_id']}")).json()
        assert [m["assist_job_id"] for m in conv["messages"] if m["internal"]] == [done["id"]]
        r = await ana.post(f"/v1/assist/{done['id']}/cancel")  # cancel after done
        assert r.status_code == 409 and r.json()["detail"]["code"] == "already_finished"
    types = [e["type"] for e in await _job_events(ws, job_id)]
    assert types[0] == "assist.started" and types[-1] == "assist.cancelled"
    assert "assist.completed" not in types and "message.created" not in types


async def test_queued_jobs_wait_for_a_slot_and_the_holder_may_cancel_them(
    fake_llm: FakeLLM, workspace
) -> None:
    ws = workspace
    fake_llm.mode = "hang"
    handoff = (await open_handoff(ws))["handoff"]
    url = f"/v1/handoffs/{handoff['id']}/assist"
    async with ws.client(ws.ana) as ana, ws.client(ws.ben) as ben:
        busy = [
            (await ana.post(url, json={"kind": "draft"})).json()["id"]
            for _ in range(assist_jobs.DEFAULT_CONCURRENCY)
        ]
        waiting = (await ana.post(url, json={"kind": "spec", "skus": ["GX-220"]})).json()["id"]
        for _ in range(2000):
            statuses = [(await ana.get(f"/v1/assist/{j}")).json()["status"] for j in busy]
            if statuses == ["running"] * len(busy) and len(fake_llm.requests) == len(busy):
                break
            await asyncio.sleep(0.01)
        assert statuses == ["running"] * len(busy)
        assert (await ana.get(f"/v1/assist/{waiting}")).json()["status"] == "queued"  # no slot free
        assert (await ben.post(f"/v1/handoffs/{handoff['id']}/claim")).status_code == 200
        r = await ben.post(f"/v1/assist/{waiting}/cancel")  # ben holds the handoff
        assert r.status_code == 200 and r.json()["status"] == "cancelled"
        assert r.json()["stage"] == "cancelled by Ben Okafor"
        fake_llm.release()
        for _ in range(2000):
            statuses = [(await ana.get(f"/v1/assist/{j}")).json()["status"] for j in busy]
            if "running" not in statuses:
                break
            await asyncio.sleep(0.01)
        assert statuses == ["done"] * len(busy)
        assert (await ana.get(f"/v1/assist/{waiting}")).json()["status"] == "cancelled"
    assert "assist.progress" not in [e["type"] for e in await _job_events(ws, waiting)]  # never ran


async def test_a_cancel_on_another_hub_instance_wins_over_a_late_finish(
    fake_llm: FakeLLM, workspace, database_url: str
) -> None:
    """Two hubs on one database: B cancels what A runs; A's late result writes nothing."""
    ws = workspace
    fake_llm.mode = "hang"
    handoff = (await open_handoff(ws))["handoff"]
    other = start_hub(database_url)
    try:
        async with ws.client(ws.ana) as a, httpx.AsyncClient(base_url=other.base_url, headers=a.headers) as b:
            job_id = (await a.post(f"/v1/handoffs/{handoff['id']}/assist", json={"kind": "draft"})).json()[
                "id"
            ]
            await asyncio.to_thread(fake_llm.waiting.wait, 20)
            r = await b.post(f"/v1/assist/{job_id}/cancel")
            assert r.status_code == 200 and r.json()["status"] == "cancelled"
            fake_llm.release()  # A's task now gets its reply and tries to finish
            for _ in range(500):
                if len(fake_llm.requests) >= 1 and not ws.hub.app.state.assist_runner.running:
                    break
                await asyncio.sleep(0.01)
            assert ws.hub.app.state.assist_runner.running == 0
            job = (await a.get(f"/v1/assist/{job_id}")).json()
            assert job["status"] == "cancelled" and job["result"] is None and job["note_message_id"] is None
            conv = (await a.get(f"/v1/conversations/{handoff['conversation_id']}")).json()
            assert not [m for m in conv["messages"] if m["internal"]]
    finally:
        other.stop()


async def test_a_restart_fails_jobs_the_previous_process_left_unfinished(
    workspace, database_url: str
) -> None:
    ws = workspace
    handoff = (await open_handoff(ws))["handoff"]
    agent = (await asyncio.to_thread(ws.hub.create_agent, "dora", ["all"], "Dora"))[0]
    request = AssistRequest(kind=AssistKind.SPEC, skus=["GX-220"])

    async def orphan(tx):  # queued in the database, never launched: as if the process died
        job = await assist_jobs.create_job(tx, agent=agent, handoff_id=handoff["id"], request=request)
        # older than any live runner lets a job get (it would have timed it out itself)
        await tx.session.execute(
            update(AssistJobRow)
            .where(AssistJobRow.id == job.id)
            .values(created_at=utcnow() - timedelta(seconds=assist_jobs.ORPHAN_AGE + 5))
        )
        return job

    async def fresh(tx):  # queued just now: on PostgreSQL another live instance may be running it
        return await assist_jobs.create_job(tx, agent=agent, handoff_id=handoff["id"], request=request)

    job = ws.hub.write(orphan)
    young = ws.hub.write(fresh)
    ws.hub.stop()
    restarted = start_hub(database_url)
    try:
        async with httpx.AsyncClient(
            base_url=restarted.base_url, headers={"Authorization": f"Bearer {ws.ana}"}
        ) as c:
            got = (await c.get(f"/v1/assist/{job.id}")).json()
            assert got["status"] == "failed" and got["error"] == "the hub restarted before this finished"
            assert got["finished_at"] and got["note_message_id"] is None
            young_now = (await c.get(f"/v1/assist/{young.id}")).json()
            if database_url.startswith("sqlite"):  # one process: nothing else can be running it
                assert young_now["status"] == "failed"
            else:  # several instances may share PostgreSQL: a young job is left to its runner
                assert young_now["status"] == "queued"
            async with SSEReader(c, last_event_id=0) as stream:
                await stream.wait_for(
                    lambda evs: any(
                        e["type"] == "assist.failed" and e["data"]["job"]["id"] == job.id for e in evs
                    )
                )
            # and the hub works on: a new job runs
            r = await c.post(
                f"/v1/handoffs/{handoff['id']}/assist", json={"kind": "spec", "skus": ["GX-220"]}
            )
            assert r.status_code == 202
    finally:
        restarted.stop()


async def test_draft_with_a_language_model_keeps_the_citations_and_falls_back_on_failure(
    fake_llm: FakeLLM, workspace
) -> None:
    ws = workspace
    handoff = (await open_handoff(ws))["handoff"]
    body = {"kind": "draft", "instructions": "Keep it short"}

    fake_llm.mode = "fail"
    template, _ = await run_job(ws, handoff["id"], body)
    assert template["status"] == "done"
    assert template["result"]["data"]["phrased_by"] == "template"
    assert "language model failed" in template["result"]["data"]["fallback_reason"]

    fake_llm.mode = "ok"
    worded, _ = await run_job(ws, handoff["id"], body)
    assert worded["result"]["data"]["phrased_by"] == "llm"
    assert worded["result"]["text"] == f"Hello there. {template['result']['text']}"  # the model's words
    assert worded["result"]["citations"] == template["result"]["citations"]
    asked = fake_llm.requests[-1]
    assert asked["model"] == "fake-1" and "Keep it short" in asked["messages"][-1]["content"]

    fake_llm.mode = "drop"  # a rewording that loses the figures is not used
    dropped, _ = await run_job(ws, handoff["id"], body)
    assert dropped["result"]["data"]["phrased_by"] == "template"
    assert dropped["result"]["text"] == template["result"]["text"]
    assert dropped["result"]["citations"] == template["result"]["citations"]
    # the notes record what was shown: the model's wording once, the template twice
    async with ws.client(ws.ana) as c:
        conv = (await c.get(f"/v1/conversations/{handoff['conversation_id']}")).json()
    notes = {m["assist_job_id"]: m["body"] for m in conv["messages"] if m["internal"]}
    assert notes[worded["id"]].startswith("Hello there. ") and "Sources:" in notes[worded["id"]]
    assert notes[dropped["id"]] == notes[template["id"]]


async def test_stopping_the_hub_fails_its_running_jobs_cleanly(
    fake_llm: FakeLLM, workspace, database_url: str
) -> None:
    ws = workspace
    fake_llm.mode = "hang"
    handoff = (await open_handoff(ws))["handoff"]
    async with ws.client(ws.ana) as c:
        job_id = (await c.post(f"/v1/handoffs/{handoff['id']}/assist", json={"kind": "draft"})).json()["id"]
    await asyncio.to_thread(fake_llm.waiting.wait, 20)
    await asyncio.to_thread(ws.hub.stop)  # the model still has not answered
    restarted = start_hub(database_url)
    try:
        async with httpx.AsyncClient(
            base_url=restarted.base_url, headers={"Authorization": f"Bearer {ws.ana}"}
        ) as c:
            got = (await c.get(f"/v1/assist/{job_id}")).json()
        assert got["status"] == "failed" and got["error"] == "the hub stopped before this finished"
        assert got["note_message_id"] is None
    finally:
        restarted.stop()


async def test_a_model_that_does_not_answer_in_time_falls_back_to_the_template(
    fake_llm: FakeLLM, monkeypatch, database_url: str, demo_templates
) -> None:
    monkeypatch.setenv("WARMLINE_LLM_TIMEOUT_SECONDS", "0.5")
    fake_llm.mode = "hang"
    await asyncio.to_thread(demo_templates.fill, database_url)
    hub = await asyncio.to_thread(start_hub, database_url)
    try:
        _agent, token = await asyncio.to_thread(hub.create_agent, "eve", ["all"])
        bot = await asyncio.to_thread(hub.create_bot, "bot")
        ws = Workspace(hub, hub.base_url, bot, token, token, token, "", "")
        handoff = (await open_handoff(ws))["handoff"]
        job, _ = await run_job(ws, handoff["id"], {"kind": "draft"})
        assert job["status"] == "done" and job["result"]["data"]["phrased_by"] == "template"
        assert job["result"]["data"]["fallback_reason"].startswith("language model failed")
        assert "GX-220" in job["result"]["text"] and job["result"]["citations"]
    finally:
        fake_llm.release()
        await asyncio.to_thread(hub.stop)


async def test_a_job_that_takes_too_long_fails_and_frees_its_slot(
    fake_llm: FakeLLM, database_url: str, demo_templates
) -> None:
    """The runner in-process on a real database, its model a real (hanging) HTTP server."""
    from warmline.catalog.service import CatalogService
    from warmline.domain.models import NewHandoff
    from warmline.escalation.llm import ChatPhraser
    from warmline.hub import service
    from warmline.hub.store.db import Database

    from .conftest import gearbox_packet, new_conversation

    fake_llm.mode = "hang"
    await asyncio.to_thread(demo_templates.fill, database_url)
    db = Database(database_url)
    await db.start()
    runner = assist_jobs.AssistRunner(
        db,
        CatalogService(db.engine),
        phraser=ChatPhraser(fake_llm.url, "fake-1"),
        job_timeout=0.5,
        concurrency=1,
    )
    try:
        async with db.write() as tx:
            agent, _ = await service.create_agent(tx, name="fay", skills=["all"])
            spec = NewHandoff.model_validate({"conversation": new_conversation(), "packet": gearbox_packet()})
            handoff = (await service.create_handoff(tx, spec=spec)).handoff
        jobs = []
        for request in (
            AssistRequest(kind=AssistKind.DRAFT),
            AssistRequest(kind=AssistKind.SPEC, skus=["GX-220"]),
        ):
            async with db.write() as tx:
                jobs.append(
                    await assist_jobs.create_job(tx, agent=agent, handoff_id=handoff.id, request=request)
                )
            runner.launch(jobs[-1].id)
        for _ in range(1000):
            async with db.read() as session:
                got = [await assist_jobs.get_job(session, j.id) for j in jobs]
            if all(j.status.finished for j in got):
                break
            await asyncio.sleep(0.01)
        draft, spec_job = got
        assert draft.status == "failed" and draft.error == "the lookup took longer than 0.5 s"
        assert spec_job.status == "done"  # it waited for the only slot, which the timeout freed
    finally:
        fake_llm.release()
        await runner.aclose()
        await db.close()
