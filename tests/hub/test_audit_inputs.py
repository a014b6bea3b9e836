"""Bad input from an outside audit (issue 19), on SQLite and PostgreSQL: always 422 naming
the field (431 for oversized headers), never a 500 or an undocumented 400, and the hub's
event loop never blocked (``LoopWatchdog``) -- then the data it guards still reads back.

The limits are in ``warmline.hub.inputs`` and docs/api.md ("Limits").
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from .conftest import Workspace, bearer, new_conversation, packet
from .loop_watchdog import LoopWatchdog

JSON = {"content-type": "application/json"}
NUL = "a\u0000b"


@pytest.fixture
def dog(workspace: Workspace, request: pytest.FixtureRequest) -> Iterator[LoopWatchdog]:
    with LoopWatchdog(workspace.hub, request) as watchdog:
        yield watchdog


def raw(value: Any) -> bytes:
    """JSON exactly as written (lone surrogates kept as escapes; NaN allowed)."""
    return json.dumps(value).encode()


def refused(r: httpx.Response, loc: list[Any], *types: str) -> None:
    """A 422 in FastAPI's shape whose first problem names ``loc``."""
    assert r.status_code == 422, (r.status_code, r.text[:500])
    detail = r.json()["detail"]
    assert isinstance(detail, list) and detail, detail
    assert detail[0]["loc"] == loc, detail
    assert detail[0]["msg"], detail
    if types:
        assert detail[0]["type"] in types, detail


async def _setup(ws: Workspace) -> dict[str, str]:
    created = await ws.handoff()
    return {
        "cid": created["handoff"]["conversation_id"],
        "hid": created["handoff"]["id"],
        "buyer": created["buyer_token"],
    }


async def test_nul_is_refused_in_every_string_field_and_path_id(
    workspace: Workspace, dog: LoopWatchdog
) -> None:
    ids = await _setup(workspace)
    cid, hid = ids["cid"], ids["hid"]
    conversation = new_conversation()
    posts: list[tuple[str, str, dict[str, Any], list[Any]]] = [
        ("bot", f"/v1/conversations/{cid}/messages", {"body": NUL}, ["body", "body"]),
        ("buyer", f"/v1/conversations/{cid}/messages", {"body": NUL}, ["body", "body"]),
        (
            "bot",
            f"/v1/conversations/{cid}/messages",
            {"body": "ok", "author_name": NUL},
            ["body", "author_name"],
        ),
        ("bot", "/v1/conversations", {**conversation, "buyer": {"name": NUL}}, ["body", "buyer", "name"]),
        ("bot", "/v1/conversations", {**conversation, "subject": NUL}, ["body", "subject"]),
        (
            "bot",
            "/v1/conversations",
            {**conversation, "messages": [{"author_kind": "buyer", "body": NUL}]},
            ["body", "messages", 0, "body"],
        ),
        (
            "bot",
            "/v1/handoffs",
            {"conversation": conversation, "packet": packet(summary=NUL)},
            ["body", "packet", "summary"],
        ),
        ("ana", "/v1/agents", {"name": "dee", "display_name": NUL}, ["body", "display_name"]),
        (
            "bot",
            "/v1/escalation/decide",
            {"turns": [{"seq": 1, "author_kind": "buyer", "body": NUL}]},
            ["body", "turns", 0, "body"],
        ),
        ("ana", f"/v1/handoffs/{hid}/assist", {"kind": "search", "query": NUL}, ["body", "query"]),
        ("bot", "/v1/conversations", {**conversation, "x\u0000": 1}, ["body", "x\\x00"]),
    ]
    tokens = {"bot": workspace.bot, "ana": workspace.ana, "buyer": ids["buyer"]}
    async with workspace.client() as c:
        # the bot's token is in the hub's cache now: its message POSTs take the fast path too
        assert (await c.get("/v1/me", headers=bearer(workspace.bot))).status_code == 200
        for who, path, body, loc in posts:
            r = await c.post(path, content=raw(body), headers={**JSON, **bearer(tokens[who])})
            refused(r, loc, "string_nul")
        gets = [
            (f"/v1/handoffs?q={'a%00'}", ["query", "q"]),
            ("/v1/catalog/search?q=gear%00box", ["query", "q"]),
            ("/v1/catalog/products/GX%00220/substitutes?constraint=ip%3E%3D65", ["path", "sku"]),
            ("/v1/catalog/products/GX-220/substitutes?constraint=ip%00", ["query", "constraint"]),
            ("/v1/handoffs/h%00x", ["path", "handoff_id"]),
            ("/v1/conversations/c%00x", ["path", "conversation_id"]),
            ("/v1/catalog/products/GX%00", ["path", "sku"]),
            ("/v1/assist/j%00", ["path", "job_id"]),
        ]
        for path, loc in gets:
            refused(await c.get(path, headers=bearer(workspace.ana)), loc, "string_nul")
        r = await c.post("/v1/handoffs/h%00x/claim", headers=bearer(workspace.ana))
        refused(r, ["path", "handoff_id"], "string_nul")
        for who in ("bot", "buyer"):  # (cached tokens: the fast message route sees these first)
            r = await c.post(
                "/v1/conversations/c%00x/messages", json={"body": "hi"}, headers=bearer(tokens[who])
            )
            refused(r, ["path", "conversation_id"], "string_nul")
        # nothing was stored: the conversation reads back as before, on both databases
        r = await c.get(f"/v1/conversations/{cid}", headers=bearer(workspace.bot))
        assert r.status_code == 200 and all("\x00" not in m["body"] for m in r.json()["messages"])
        assert (await c.get(f"/v1/handoffs/{hid}", headers=bearer(workspace.ana))).status_code == 200


async def test_timestamps_outside_the_sane_range_are_refused(workspace: Workspace, dog: LoopWatchdog) -> None:
    ids = await _setup(workspace)
    extremes = [
        "0001-01-01T00:00:00+05:00",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59-14:00",
        "1969-12-31T23:59:59Z",
    ]
    async with workspace.client(workspace.bot) as bot:
        for when in extremes:
            conversation = new_conversation()
            conversation["messages"][0]["created_at"] = when
            r = await bot.post("/v1/conversations", json=conversation)
            refused(r, ["body", "messages", 0, "created_at"])
            r = await bot.post("/v1/handoffs", json={"conversation": conversation, "packet": packet()})
            refused(r, ["body", "conversation", "messages", 0, "created_at"])
            r = await bot.post(
                "/v1/handoffs",
                json={"conversation": new_conversation(), "packet": packet(), "escalated_at": when},
            )
            refused(r, ["body", "escalated_at"])
        # inside the range: accepted and readable
        conversation = new_conversation()
        conversation["messages"][0]["created_at"] = "1970-01-01T05:00:00+05:00"
        r = await bot.post("/v1/handoffs", json={"conversation": conversation, "packet": packet()})
        assert r.status_code == 201, r.text
        handoff = r.json()["handoff"]
        r = await bot.get(f"/v1/conversations/{handoff['conversation_id']}")
        assert r.status_code == 200 and r.json()["messages"][0]["created_at"].startswith(
            "1970-01-01T00:00:00"
        )
    async with workspace.client(workspace.ana) as ana:
        assert (await ana.get(f"/v1/handoffs/{handoff['id']}")).status_code == 200
        assert (await ana.get(f"/v1/handoffs/{ids['hid']}")).status_code == 200


async def test_numbers_surrogates_and_unreadable_json_answer_422(
    workspace: Workspace, dog: LoopWatchdog
) -> None:
    ids = await _setup(workspace)
    cid, hid = ids["cid"], ids["hid"]
    quantity = (
        '{"conversation": {"messages": []}, "packet": {"reason": "purchase_intent", "summary": "s", '
        '"quantities": [{"amount": %s}]}}'
    )
    bodies: list[tuple[str, str, bytes, list[Any], str]] = [
        (
            "bot",
            "/v1/handoffs",
            (quantity % "1e999999").encode(),
            ["body", "packet", "quantities", 0, "amount"],
            "number_out_of_range",
        ),
        (
            "bot",
            "/v1/handoffs",
            (quantity % "NaN").encode(),
            ["body", "packet", "quantities", 0, "amount"],
            "number_not_finite",
        ),
        (
            "bot",
            "/v1/handoffs",
            (quantity % "-Infinity").encode(),
            ["body", "packet", "quantities", 0, "amount"],
            "number_not_finite",
        ),
        (
            "bot",
            "/v1/handoffs",
            (quantity % ("9" * 400)).encode(),
            ["body", "packet", "quantities", 0, "amount"],
            "number_out_of_range",
        ),
        (
            "bot",
            "/v1/handoffs",
            (quantity % ("9" * 5000)).encode(),
            ["body", "packet", "quantities", 0, "amount"],
            "number_out_of_range",
        ),
        (
            "bot",
            f"/v1/conversations/{cid}/messages",
            b'{"body": "\\ud800"}',
            ["body", "body"],
            "string_surrogate",
        ),
        (
            "bot",
            f"/v1/conversations/{cid}/messages",
            b'{"body": "x\\udfff y"}',
            ["body", "body"],
            "string_surrogate",
        ),
        (
            "bot",
            "/v1/conversations",
            b'{"buyer": {"name": "\\ud800"}}',
            ["body", "buyer", "name"],
            "string_surrogate",
        ),
        (
            "bot",
            "/v1/escalation/decide",
            b'{"turns": [{"seq": 1, "author_kind": "buyer", "body": "\\ud83d"}]}',
            ["body", "turns", 0, "body"],
            "string_surrogate",
        ),
        (
            "bot",
            "/v1/escalation/decide",
            b'{"turns": [{"seq": NaN, "author_kind": "buyer", "body": "x"}]}',
            ["body", "turns", 0, "seq"],
            "number_not_finite",
        ),
        ("ana", f"/v1/handoffs/{hid}/assist", b"[" * 5000 + b"]" * 5000, ["body"], "json_too_deep"),
        (
            "ana",
            f"/v1/handoffs/{hid}/assist",
            b'{"kind": "spec", "skus": ' + b"[" * 200 + b"]" * 200 + b"}",
            ["body", "skus", *[0] * 31],
            "json_too_deep",
        ),
        ("bot", "/v1/conversations", b"[" * 5000 + b"]" * 5000, ["body"], "json_too_deep"),
        ("bot", "/v1/conversations", b'{"subject": "\xff\xfe"}', ["body"], "json_invalid"),
        ("bot", f"/v1/conversations/{cid}/messages", b'{"body": "\xed\xa0\x80"}', ["body"], "json_invalid"),
        (
            "ana",
            f"/v1/handoffs/{hid}/assist",
            b'{"kind": "search", "query": "\xc3"}',
            ["body"],
            "json_invalid",
        ),
    ]
    tokens = {"bot": workspace.bot, "ana": workspace.ana}
    async with workspace.client() as c:
        for who, path, body, loc, kind in bodies:
            r = await c.post(path, content=body, headers={**JSON, **bearer(tokens[who])})
            refused(r, loc, kind)
        # a body that is not JSON at all, in another content type: still FastAPI's 422
        r = await c.post(
            "/v1/conversations",
            content=b"\xff\xfe",
            headers={"content-type": "text/plain", **bearer(workspace.bot)},
        )
        assert r.status_code == 422, r.text
        # the fast events path: '²' is a digit to str.isdigit() but not to int()
        for query in ("last_event_id=%C2%B2", "last_event_id=99999999999999999999999", "last_event_id=%00"):
            r = await c.get(f"/v1/events?{query}", headers=bearer(workspace.ana))
            assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "last_event_id"], r.text
        for value in ("²", "99999999999999999999999", "+5", "1_0"):
            r = await c.get(
                "/v1/events",
                headers=[(b"last-event-id", value.encode()), *bearer(workspace.ana).items()],
            )
            assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["header", "last-event-id"], (
                r.text
            )
        # plain non-ASCII text and a valid surrogate pair (an emoji) are fine
        r = await c.post(
            f"/v1/conversations/{cid}/messages",
            content=b'{"body": "Gr\xc3\xb6\xc3\x9fe 40 N\xc2\xb7m \\ud83d\\ude00 1e999"}',
            headers={**JSON, **bearer(workspace.bot)},
        )
        assert r.status_code == 201 and r.json()["body"] == "Größe 40 N·m 😀 1e999", r.text


async def test_oversized_headers_answer_431(workspace: Workspace, dog: LoopWatchdog) -> None:
    ids = await _setup(workspace)
    many = [(f"x-filler-{i}", "1") for i in range(101)]
    huge = [("x-filler", "y" * 17_000)]
    async with workspace.client() as c:
        for extra in (many, huge):
            for method, path in (
                ("GET", "/v1/health"),
                ("GET", "/v1/events"),
                ("POST", f"/v1/conversations/{ids['cid']}/messages"),
            ):
                headers = httpx.Headers([*bearer(workspace.bot).items(), *extra])
                r = await c.request(method, path, json={"body": "hi"}, headers=headers)
                assert r.status_code == 431, (method, path, r.status_code, r.text[:200])
                assert r.json()["detail"]["code"] == "request_header_fields_too_large"
        # within the limits: fine
        r = await c.get("/v1/health", headers=[(f"x-filler-{i}", "1") for i in range(90)])
        assert r.status_code == 200


async def test_security_relevant_booleans_are_strict(workspace: Workspace, dog: LoopWatchdog) -> None:
    ids = await _setup(workspace)
    cid = ids["cid"]
    async with workspace.client(workspace.bot) as bot:
        assert (await bot.get("/v1/me")).status_code == 200  # cached: the fast path sees it first
        for value in ("yes", "true", 1, "on"):
            r = await bot.post(f"/v1/conversations/{cid}/messages", json={"body": "note", "internal": value})
            refused(r, ["body", "internal"], "bool_type")
        r = await bot.post("/v1/conversations", json={**new_conversation(), "ai_assistant": "yes"})
        refused(r, ["body", "ai_assistant"], "bool_type")
        r = await bot.post(
            "/v1/handoffs", json={"conversation": new_conversation(), "packet": packet(), "announce": 0}
        )
        refused(r, ["body", "announce"], "bool_type")
        r = await bot.post(f"/v1/conversations/{cid}/messages", json={"body": "note", "internal": True})
        assert r.status_code == 201 and r.json()["internal"] is True
        # no message was stored from the refused ones: the buyer sees no "note"
    async with workspace.client(ids["buyer"]) as buyer:
        r = await buyer.get(f"/v1/conversations/{cid}")
        assert r.status_code == 200 and all(m["body"] != "note" for m in r.json()["messages"])


async def test_the_422_answer_survives_input_it_cannot_echo() -> None:
    """FastAPI's handler echoes each field's input; NaN, a lone surrogate or raw non-UTF-8
    bytes there made the 422 itself fail with a 500. The hub's handler leaves them out."""
    from fastapi.exceptions import RequestValidationError

    from warmline.hub.errors import validation_error

    exc = RequestValidationError(
        [
            {"loc": ("body", "amount"), "msg": "bad", "type": "t", "input": math.nan},
            {"loc": ("body", "x\ud800"), "msg": "bad", "type": "t", "input": "\ud800"},
            {"loc": ("body",), "msg": "bad", "type": "t", "input": b"\xff\xfe"},
            {"loc": ("query", "limit"), "msg": "bad", "type": "t", "input": "7"},
        ]
    )
    response = await validation_error(None, exc)
    assert response.status_code == 422
    detail = json.loads(response.body)["detail"]
    locs = [d["loc"] for d in detail]
    assert locs == [["body", "amount"], ["body", "x\\ud800"], ["body"], ["query", "limit"]]
    assert "input" not in detail[0] and "input" not in detail[1] and detail[3]["input"] == "7"
