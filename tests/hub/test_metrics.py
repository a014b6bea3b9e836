"""Handoff-quality metrics (issue 13) on SQLite and PostgreSQL, through a real hub over HTTP:
a scripted history whose measures are worked out by hand below (times, rates, breakdowns,
the daily series), with an unresolved handoff, a requeued one (release + claim by another),
resolves with and without a review, repeat detection against the packet, and ratings.

Transfers (issue 12) are counted in their own test below.
"""

from __future__ import annotations

import asyncio
import csv
import json
from datetime import UTC, datetime, timedelta

from click.testing import CliRunner

from warmline.cli import main
from warmline.escalation.evaluation import LabelledConversation

from .conftest import Workspace, new_conversation, packet

SLACK = 30  # seconds the test itself may take between a scripted time and the hub's clock


def close(actual: int | None, expected: int) -> bool:
    return actual is not None and expected <= actual <= expected + SLACK


async def make(ws: Workspace, ago: timedelta, **pkt) -> dict:
    when = datetime.now(UTC) - ago
    return await ws.handoff(
        conversation=new_conversation(), packet=packet(**pkt), escalated_at=when.isoformat()
    ) | {"escalated_at": when}


async def test_scripted_history(workspace: Workspace, database_url: str, tmp_path) -> None:
    ws = workspace
    gear = {
        "constraints": [{"name": "torque", "value": "> 180", "unit": "N·m"}],
        "quantities": [{"amount": 200, "unit": "pcs"}],
    }
    h1 = await make(ws, timedelta(hours=2), **gear)  # purchase intent: order placed
    h2 = await make(ws, timedelta(hours=1), reason="live_data", sub_reason="stock")  # requeued, lost, late
    h3 = await make(ws, timedelta(hours=4), reason="low_confidence", sub_reason="")  # no reply, no review
    h4 = await make(ws, timedelta(minutes=30))  # purchase intent, never claimed
    h5 = await make(ws, timedelta(hours=3), reason="complexity", sub_reason="lead_time")  # high intent
    ids = [h["handoff"]["id"] for h in (h1, h2, h3, h4, h5)]

    async with ws.client(ws.ana) as ana, ws.client(ws.ben) as ben:

        async def ok(c, path: str, **kw) -> dict:
            r = await c.post(path, **kw)
            assert r.status_code in (200, 201, 202), (path, r.text)
            return r.json()

        def msg(h: dict) -> str:
            return f"/v1/conversations/{h['handoff']['conversation_id']}/messages"

        # h1: ana claims, asks the assistant first (AI-assisted), replies; the buyer repeats
        await ok(ana, f"/v1/handoffs/{ids[0]}/claim")
        await ok(ana, f"/v1/handoffs/{ids[0]}/assist", json={"kind": "search", "query": "gearbox"})
        await ok(ana, msg(h1), json={"body": "internal: checking stock", "internal": True})
        await ok(ana, msg(h1), json={"body": "Hello, I can help with GX-220."})
        async with ws.client(h1["buyer_token"]) as buyer:
            await ok(buyer, msg(h1), json={"body": "As I said: 200 pcs, it must take 0.18 kNm."})
            await ok(buyer, msg(h1), json={"body": "thanks"})
        r = await ana.post(f"/v1/handoffs/{ids[0]}/resolve", json={"outcome": "sold"})
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "outcome"]
        r = await ana.post(f"/v1/handoffs/{ids[0]}/resolve", json={"late_turn": 99})
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "late_turn"]
        r = await ana.post(f"/v1/handoffs/{ids[0]}/resolve", json={"late": False, "late_turn": 1})
        assert r.status_code == 422
        await ok(
            ana, f"/v1/handoffs/{ids[0]}/resolve", json={"outcome": "order_placed", "unnecessary": False}
        )

        # h2: ana claims and releases (a requeue), ben claims, replies, resolves as lost and late
        await ok(ana, f"/v1/handoffs/{ids[1]}/claim")
        await ok(ana, f"/v1/handoffs/{ids[1]}/release")
        await ok(ben, f"/v1/handoffs/{ids[1]}/claim")
        await ok(ben, msg(h2), json={"body": "On it."})
        review = {"outcome": "lost", "late_turn": 1, "buyer_repeated": True, "unnecessary": False}
        await ok(ben, f"/v1/handoffs/{ids[1]}/resolve", json=review)

        # h3: ben resolves without a word and without a review
        await ok(ben, f"/v1/handoffs/{ids[2]}/claim")
        await ok(ben, f"/v1/handoffs/{ids[2]}/resolve")

        # h5: ben replies, then resolves: no response, unnecessary
        await ok(ben, f"/v1/handoffs/{ids[4]}/claim")
        await ok(ben, msg(h5), json={"body": "Lead time is 3 weeks."})
        await ok(ben, f"/v1/handoffs/{ids[4]}/resolve", json={"outcome": "no_response", "unnecessary": True})

        r = await ana.get(f"/v1/handoffs/{ids[0]}/review")
        assert r.status_code == 200, r.text
        facts = r.json()
        assert facts["repeat_detected"] is True and facts["ai_assisted"] is True
        assert facts["outcome"] == "order_placed" and facts["reviewed"] is True
        seq = facts["escalated_seq"] + 3  # after the announcement and ana's reply (the note is 4th)
        kinds = {(x["seq"] - facts["escalated_seq"], x["kind"], x["found"]) for x in facts["repeats"]}
        assert {(k, f) for _s, k, f in kinds} == {("quantity", "200 pcs"), ("constraint", "0.18 kNm")}
        assert all(x["seq"] > seq for x in facts["repeats"])
        h2_facts = (await ana.get(f"/v1/handoffs/{ids[1]}/review")).json()
        assert h2_facts["requeues"] == 1 and h2_facts["late"] is True and h2_facts["late_turn"] == 1
        assert h2_facts["agent_id"] == ws.ben_id and h2_facts["ai_assisted"] is False
        assert (await ana.get("/v1/handoffs/hnd_nope/review")).status_code == 404

    # ratings: buyers only, after resolve, once
    async with ws.client(h1["buyer_token"]) as b1:
        conv1 = h1["handoff"]["conversation_id"]
        r = await b1.post(f"/v1/conversations/{conv1}/rating", json={"rating": 6})
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "rating"]
        r = await b1.post(f"/v1/conversations/{conv1}/rating", json={"rating": 5, "comment": "fast"})
        assert r.status_code == 201, r.text
        assert (await b1.post(f"/v1/conversations/{conv1}/rating", json={"rating": 4})).status_code == 409
        conv2 = h2["handoff"]["conversation_id"]
        assert (await b1.post(f"/v1/conversations/{conv2}/rating", json={"rating": 4})).status_code == 403
    async with ws.client(h2["buyer_token"]) as b2:
        assert (await b2.post(f"/v1/conversations/{conv2}/rating", json={"rating": 2})).status_code == 201
    async with ws.client(h4["buyer_token"]) as b4:
        conv4 = h4["handoff"]["conversation_id"]
        assert (await b4.post(f"/v1/conversations/{conv4}/rating", json={"rating": 3})).status_code == 409
    async with ws.client(ws.ana) as c:
        r = await c.post(f"/v1/conversations/{conv1}/rating", json={"rating": 3})
        assert r.status_code == 403

    async with ws.client(ws.ana) as c:
        r = await c.get("/v1/metrics")
        assert r.status_code == 200, r.text
        m = r.json()
        assert (await c.get("/v1/metrics", params={"from": "yesterday"})).status_code == 422
        r = await c.get("/v1/metrics", params={"from": "2026-03-02", "to": "2026-03-01"})
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "to"]
        by_agent = (await c.get("/v1/metrics", params={"agent": ws.ben_id})).json()
        by_reason = (await c.get("/v1/metrics", params={"reason": "purchase_intent"})).json()
        far = (await c.get("/v1/metrics", params={"from": "2001-01-01", "to": "2001-01-31"})).json()
    async with ws.client(ws.bot) as c:
        assert (await c.get("/v1/metrics")).status_code == 200
    async with ws.client(h1["buyer_token"]) as c:
        assert (await c.get("/v1/metrics")).status_code == 403

    # worked out by hand
    assert m["counts"] == {
        "escalated": 5,
        "resolved": 4,
        "open": 1,
        "reviewed": 3,
        "requeued": 1,
        "transferred": 0,
        "rated": 2,
    }
    ttfr = m["time_to_first_response"]  # h1 2 h, h2 1 h, h5 3 h; h3 and h4 never answered
    assert ttfr["count"] == 3 and ttfr["without_reply"] == 2
    assert close(ttfr["p50_seconds"], 7200) and close(ttfr["p90_seconds"], 10800)  # ranks 2 and 3 of 3
    res = m["resolution_time"]  # h1 2 h, h2 1 h, h3 4 h, h5 3 h -> ranks ceil(2)=2, ceil(3.6)=4
    assert res["count"] == 4 and close(res["p50_seconds"], 7200) and close(res["p90_seconds"], 14400)
    # repeated: h1 (detected) and h2 (ticked) of 4 resolved
    assert m["buyer_repeated"] == {"numerator": 2, "denominator": 4, "rate": 0.5, "detected": 1, "ticked": 1}
    # high intent resolved: h1 (purchase_intent, order placed), h5 (lead_time, no response); h4 open
    assert m["high_intent_conversion"] == {"numerator": 1, "denominator": 2, "rate": 0.5, "quote_sent": 0}
    assert m["satisfaction"] == {
        "ai_assisted": {"count": 1, "sum": 5, "mean": 5.0},
        "not_assisted": {"count": 1, "sum": 2, "mean": 2.0},
    }
    # unnecessary: h5 of 4 resolved (h3 unreviewed counts in the denominator)
    assert m["unnecessary"] == {"numerator": 1, "denominator": 4, "rate": 0.25, "reviewed": 3}
    # failed = lost or no response: h2 (late) and h5 (not late); late overall: h2 of 4
    assert m["late_among_failed"] == {
        "numerator": 1,
        "denominator": 2,
        "rate": 0.5,
        "late_all": {"numerator": 1, "denominator": 4, "rate": 0.25},
    }
    assert set(m["by_reason"]) == {"purchase_intent", "live_data", "low_confidence", "complexity"}
    assert m["by_reason"]["purchase_intent"]["counts"]["escalated"] == 2
    assert m["by_reason"]["purchase_intent"]["counts"]["resolved"] == 1
    assert m["by_agent"][ws.ben_id]["counts"]["resolved"] == 3
    assert m["by_agent"][ws.ana_id]["counts"]["resolved"] == 1
    assert m["by_agent"][""]["counts"]["escalated"] == 1  # h4, never claimed
    days: dict[str, int] = {}
    for h in (h1, h2, h3, h4, h5):
        day = h["escalated_at"].date().isoformat()
        days[day] = days.get(day, 0) + 1
    assert {d["day"]: d["counts"]["escalated"] for d in m["daily"]} == days
    assert sum(int(s["counts"]["escalated"]) for s in m["by_skill"].values()) == 5
    # filters
    assert by_agent["counts"]["resolved"] == 3 and by_agent["unnecessary"]["numerator"] == 1
    assert by_reason["counts"] == {
        "escalated": 2,
        "resolved": 1,
        "open": 1,
        "reviewed": 1,
        "requeued": 0,
        "transferred": 0,
        "rated": 1,
    }
    assert far["counts"]["escalated"] == 0 and far["time_to_first_response"]["p50_seconds"] is None
    assert far["buyer_repeated"]["rate"] is None and far["daily"] == []

    # the same figures from the command line, as JSON, CSV and HTML
    def cli(*args: str) -> str:
        result = CliRunner().invoke(main, [*args, "--database-url", database_url])
        assert result.exit_code == 0, result.output
        return result.stdout

    out = await asyncio.to_thread(
        cli, "report", "--json", "--csv", str(tmp_path / "r.csv"), "--html", str(tmp_path / "r.html")
    )
    assert {k: v for k, v in json.loads(out).items() if k != "window"} == {
        k: v for k, v in m.items() if k != "window"
    }
    rows = list(csv.DictReader((tmp_path / "r.csv").open()))
    assert (
        rows[0]["scope"] == "all" and rows[0]["unnecessary_num"] == "1" and rows[0]["unnecessary_den"] == "4"
    )
    assert {r["key"] for r in rows if r["scope"] == "reason"} == set(m["by_reason"])
    assert "<table>" in (tmp_path / "r.html").read_text()
    assert "unnecessary" in await asyncio.to_thread(cli, "report", "--from", "2001-01-01")

    # reviewed escalations (h1, h2, h5; h3 had no review) in the eval format
    await asyncio.to_thread(cli, "review", "export", str(tmp_path / "reviews.jsonl"))
    lines = [json.loads(x) for x in (tmp_path / "reviews.jsonl").read_text().splitlines()]
    by_id = {x["id"]: LabelledConversation.model_validate(x) for x in lines}
    assert set(by_id) == {ids[0], ids[1], ids[4]}
    assert by_id[ids[4]].expected.escalate_at is None  # unnecessary: should not have escalated
    assert by_id[ids[1]].expected.escalate_at == 0 and by_id[ids[1]].buyer_turns == [
        "turn 1"
    ]  # late at seq 1
    assert (
        by_id[ids[0]].expected.reason is not None and by_id[ids[0]].expected.reason.value == "purchase_intent"
    )


async def test_transfers_and_requeues_are_counted(workspace: Workspace) -> None:
    ws = workspace
    h = await make(ws, timedelta(minutes=10))
    hid = h["handoff"]["id"]
    async with ws.client(ws.ana) as ana, ws.client(ws.ben) as ben:
        assert (await ana.post(f"/v1/handoffs/{hid}/claim")).status_code == 200
        r = await ana.post(f"/v1/handoffs/{hid}/transfer", json={"to_agent": ws.ben_id, "note": "yours"})
        assert r.status_code == 200, r.text
        assert (await ben.post(f"/v1/handoffs/{hid}/release")).status_code == 200
        assert (await ben.post(f"/v1/handoffs/{hid}/claim")).status_code == 200
        assert (
            await ben.post(f"/v1/handoffs/{hid}/resolve", json={"outcome": "answered"})
        ).status_code == 200
        facts = (await ben.get(f"/v1/handoffs/{hid}/review")).json()
        m = (await ben.get("/v1/metrics")).json()
    assert (facts["transfers"], facts["requeues"], facts["agent_id"]) == (1, 1, ws.ben_id)
    assert m["counts"]["transferred"] == 1 and m["counts"]["requeued"] == 1
    assert m["by_agent"][ws.ben_id]["counts"]["transferred"] == 1
