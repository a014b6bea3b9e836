"""The message POST's hot path: FastStatement (one aiosqlite round trip per statement) and
FastMessageRoute (the POST without FastAPI's layers) must answer and store exactly what the
ordinary paths do. Real hub over HTTP, real SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from warmline.cli import main as cli_main
from warmline.domain.models import NewConversation
from warmline.hub import service
from warmline.hub.api.conversations import FastMessageRoute
from warmline.hub.store import repository as repo
from warmline.hub.store.db import utcnow
from warmline.hub.store.fast import FastStatement
from warmline.hub.store.tables import IdempotencyRow, MessageRow

from .conftest import Workspace, bearer, hub_process, new_conversation, open_db, open_workspace, packet


async def test_fast_statements_store_what_the_orm_stores(database_url: str) -> None:
    """A message and an idempotency record written by FastStatement read back through the
    ORM with the same values (aware UTC datetimes, booleans, JSON) as ORM-written rows."""
    db = await open_db(database_url)
    try:
        async with db.write() as tx:
            conversation, _ = await service.create_conversation(
                tx, spec=NewConversation.model_validate(new_conversation(messages=0))
            )
        when = utcnow()
        async with db.write() as tx:
            reserved = await repo.reserve_seq(tx.session, conversation.id)
            assert reserved is not None and reserved.last_seq == 1 and reserved.ai_assistant is False
            assert reserved.buyer["company"] == "Acme Conveyors"
            await repo.insert_messages(
                tx.session,
                [
                    {
                        "id": "msg_fast",
                        "conversation_id": conversation.id,
                        "seq": 1,
                        "author_kind": "buyer",
                        "author_name": "Bo Buyer",
                        "agent_id": None,
                        "body": "hello ✓",
                        "internal": True,
                        "created_at": when,
                    }
                ],
            )
            await repo.insert_idempotency(
                tx.session,
                {
                    "principal": "bot:x",
                    "key": "k1",
                    "request_hash": "h" * 64,
                    "response_status": 201,
                    "response_body": {"nested": [1, "two", None], "ok": True},
                    "created_at": when,
                },
            )
        async with db.read() as session:
            row = await session.get(MessageRow, "msg_fast")
            assert row is not None
            assert (row.seq, row.body, row.internal, row.created_at) == (1, "hello ✓", True, when)
            stored = await repo.idempotency(session, "bot:x", "k1")
            assert stored is not None and stored.response_body == {"nested": [1, "two", None], "ok": True}
            assert stored.created_at == when
            assert await repo.reserve_seq(session, "cnv_missing") is None
            events = await repo.events_after(session, 0, limit=10)
            assert [e.type for e in events] == ["conversation.created"]
            assert events[0].created_at.tzinfo is not None and events[0].data["conversation"]["id"]
    finally:
        await db.close()


async def test_fast_statement_raises_sqlalchemy_integrity_error(database_url: str) -> None:
    """Idempotency relies on IntegrityError for a taken key; the fast path must raise it too,
    and the failed transaction must leave nothing behind."""
    db = await open_db(database_url)
    values = {
        "principal": "bot:y",
        "key": "dup",
        "request_hash": "h",
        "response_status": 201,
        "response_body": {},
        "created_at": utcnow(),
    }
    try:
        async with db.write() as tx:
            await repo.insert_idempotency(tx.session, values)
        with pytest.raises(IntegrityError):
            async with db.write() as tx:
                await repo.insert_idempotency(tx.session, {**values, "request_hash": "other"})
        async with db.read() as session:
            rows = (await session.scalars(select(IdempotencyRow))).all()
            assert [(r.key, r.request_hash) for r in rows] == [("dup", "h")]
    finally:
        await db.close()


async def test_fast_statement_fixed_binds_and_several_rows(sqlite_url: str) -> None:
    """LIMIT binds get SQLite's implicit OFFSET; several rows go as one executemany."""
    db = await open_db(sqlite_url)
    stmt = FastStatement(
        insert(IdempotencyRow.__table__),
        column_keys=("principal", "key", "request_hash", "response_status", "response_body", "created_at"),
    )
    rows = [
        {
            "principal": "p",
            "key": f"k{i}",
            "request_hash": "h",
            "response_status": None,
            "response_body": None,
            "created_at": utcnow(),
        }
        for i in range(3)
    ]
    try:
        async with db.write() as tx:
            await stmt.write(tx.session, rows)
        async with db.read() as session:
            keys = sorted(r.key for r in (await session.scalars(select(IdempotencyRow))).all())
            assert keys == ["k0", "k1", "k2"]
            assert await repo.events_after(session, 0, limit=1) == []
    finally:
        await db.close()


def _count_fast(workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Record, per POST, whether FastMessageRoute took it (True) or handed it on (False)."""
    taken: list[bool] = []
    original = FastMessageRoute._prepare

    def prepare(self: FastMessageRoute, request: Any, body: bytes) -> Any:
        work = original(self, request, body)
        taken.append(work is not None)
        return work

    monkeypatch.setattr(FastMessageRoute, "_prepare", prepare)
    return taken


async def test_fast_route_and_fastapi_route_answer_alike(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken = _count_fast(workspace, monkeypatch)
    async with workspace.client(workspace.bot) as bot:
        created = (await bot.post("/v1/conversations", json=new_conversation(messages=0))).json()
    cid, buyer_token = created["conversation"]["id"], created["buyer_token"]
    path = f"/v1/conversations/{cid}/messages"
    async with workspace.client(buyer_token) as buyer:
        key = {"Idempotency-Key": "retry-me"}
        # first use of the token: not cached yet, so the FastAPI route answers (and caches it)
        first = await buyer.post(path, json={"body": "hello"}, headers=key)
        # the retry takes the fast route, and must replay the first answer (same fingerprint)
        again = await buyer.post(path, json={"body": "hello"}, headers=key)
        assert taken == [False, True]
        assert first.status_code == again.status_code == 201 and first.json() == again.json()
        assert first.json()["author_name"] == "Bo Buyer" and first.json()["seq"] == 1
        changed = await buyer.post(path, json={"body": "changed"}, headers=key)
        assert changed.status_code == 422 and changed.json()["detail"]["code"] == "idempotency_key_reused"
        assert taken[-1] is True

        # refusals raised on the fast route come out through the app's handlers
        r = await buyer.post(path, json={"body": "x", "internal": True})
        assert taken[-1] is True
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "internal"]
        r = await buyer.post("/v1/conversations/cnv_other/messages", json={"body": "x"})
        assert taken[-1] is True and r.status_code == 403
        assert r.json()["detail"]["code"] == "forbidden"

        # what the fast route does not handle goes to the FastAPI route, body intact
        r = await buyer.post(path, json={"body": ""})
        assert taken[-1] is False and r.status_code == 422
        assert r.json()["detail"][0]["loc"] == ["body", "body"]
        r = await buyer.post(path, content=b"{not json", headers={"content-type": "application/json"})
        assert taken[-1] is False and r.status_code == 422
        r = await buyer.post(path, json={"body": "long key"}, headers={"Idempotency-Key": "k" * 201})
        assert taken[-1] is False and r.status_code == 422
        as_text = json.dumps({"body": "as text"})
        r = await buyer.post(path, content=as_text, headers={"content-type": "text/plain"})
        assert taken[-1] is False and r.status_code == 422  # FastAPI's own answer
        r = await buyer.post(path, json={"body": "no token"}, headers={"Authorization": ""})
        assert taken[-1] is False and r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
        r = await buyer.post(path, json={"body": "x"}, headers=bearer("not-a-token"))
        assert taken[-1] is False and r.status_code == 401

        # oversize bodies are refused before either route parses them
        before = len((await buyer.get(f"/v1/conversations/{cid}")).json()["messages"])
        big = {"body": "y" * (workspace.hub.settings.max_request_bytes + 10)}
        r = await buyer.post(path, json=big)
        assert r.status_code == 413 and r.json()["detail"]["code"] == "request_too_large"

        # exactly the accepted messages were written, in order
        messages = (await buyer.get(f"/v1/conversations/{cid}")).json()["messages"]
        assert len(messages) == before
        assert [m["body"] for m in messages] == ["hello"]
    async with workspace.client(workspace.ben) as ben:
        r = await ben.post(path, json={"body": "not mine yet"})
        assert taken[-1] is False  # first use of ben's token
        assert r.status_code == 409 and r.json()["detail"]["code"] == "not_claimed"
        r = await ben.post(path, json={"body": "still not mine"})
        assert taken[-1] is True and r.status_code == 409 and r.json()["detail"]["code"] == "not_claimed"


async def test_openapi_still_describes_the_message_post(workspace: Workspace) -> None:
    async with workspace.client() as anon:
        spec = (await anon.get("/openapi.json")).json()
    operation = spec["paths"]["/v1/conversations/{conversation_id}/messages"]["post"]
    assert "201" in operation["responses"]
    assert operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("NewMessage")
    assert any(p["name"] == "Idempotency-Key" for p in operation["parameters"])


# --- the switch: fast paths on vs off give the same answers ----------------------------------

_ID = re.compile(r"\b(cnv|msg|hnd|agt|tok|job)_[0-9a-f]{32}\b")
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?")


class _Normaliser:
    """Ids become ``<cnv#1>``-style names in order of first appearance, timestamps ``<time>``,
    so two hubs running the same script on two databases can be compared answer by answer."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}

    def text(self, value: str) -> str:
        def name(found: re.Match[str]) -> str:
            key = found.group(0)
            if key not in self.names:
                kind = found.group(1)
                count = sum(1 for v in self.names.values() if v.startswith(f"<{kind}#"))
                self.names[key] = f"<{kind}#{count + 1}>"
            return self.names[key]

        return _TIME.sub("<time>", _ID.sub(name, value))

    def answer(self, r: httpx.Response) -> tuple[int, Any]:
        body: Any = r.text
        with contextlib.suppress(ValueError):
            body = r.json()
            if isinstance(body, dict) and "buyer_token" in body:
                body = {**body, "buyer_token": "<token>" if body["buyer_token"] else None}
            body = json.loads(self.text(json.dumps(body, sort_keys=True)))
        return r.status_code, body


class _Stream:
    """``GET /v1/events`` read in the background as raw SSE lines (comments skipped)."""

    def __init__(self, client: httpx.AsyncClient, after: int) -> None:
        self.lines: list[str] = []
        self.changed = asyncio.Event()
        self.task = asyncio.create_task(self._read(client, after))

    async def _read(self, client: httpx.AsyncClient, after: int) -> None:
        async with client.stream("GET", "/v1/events", headers={"Last-Event-ID": str(after)}) as r:
            assert r.status_code == 200, await r.aread()
            async for line in r.aiter_lines():
                if line and not line.startswith(":"):
                    self.lines.append(line)
                    self.changed.set()

    async def until(self, last_id: int) -> list[str]:
        """Every line up to and including event ``last_id``'s frame."""
        async with asyncio.timeout(20):
            while True:
                ids = [i for i, line in enumerate(self.lines) if line == f"id: {last_id}"]
                if ids and any(line.startswith("data:") for line in self.lines[ids[0] :]):
                    end = next(i for i in range(ids[0], len(self.lines)) if self.lines[i].startswith("data:"))
                    self.task.cancel()
                    return self.lines[: end + 1]
                self.changed.clear()
                await self.changed.wait()


async def _script(ws: Workspace) -> dict[str, Any]:
    """The same requests, in the same order, against one hub; everything it answered."""
    norm = _Normaliser()
    out: dict[str, Any] = {"answers": []}

    def keep(r: httpx.Response) -> None:
        out["answers"].append(norm.answer(r))

    async with ws.client(ws.ben) as ben, ws.client(ws.bot) as bot, ws.client(ws.ana) as ana:
        live = _Stream(ben, 0)
        created = await bot.post("/v1/conversations", json=new_conversation(messages=0))
        keep(created)
        cid, buyer_token = created.json()["conversation"]["id"], created.json()["buyer_token"]
        path = f"/v1/conversations/{cid}/messages"
        async with ws.client(buyer_token) as buyer:
            key = {"Idempotency-Key": "retry-me"}
            keep(await buyer.post(path, json={"body": "hello"}, headers=key))  # token not cached yet
            keep(await buyer.post(path, json={"body": "hello"}, headers=key))  # replay
            keep(await buyer.post(path, json={"body": "changed"}, headers=key))  # 422 key reused
            keep(await buyer.post(path, json={"body": "second ✓ \\ ' \" $wl$"}))
            keep(await buyer.post(path, json={"body": "x", "internal": True}))  # 422
            keep(await buyer.post(f"/v1/conversations/cnv_{'0' * 32}/messages", json={"body": "x"}))
            keep(await buyer.post(path, json={"body": ""}))  # 422
            keep(await buyer.post(path, content=b"{not json", headers={"content-type": "application/json"}))
            keep(await buyer.post(path, json={"body": "k"}, headers={"Idempotency-Key": "k" * 201}))
            keep(await buyer.post(path, json={"body": "y" * (ws.hub.settings.max_request_bytes + 10)}))
            keep(await buyer.post(path, json={"body": "x"}, headers=bearer("not-a-token")))
        keep(await bot.post(path, json={"body": "ai answer", "author_kind": "ai"}))
        handed = await bot.post("/v1/handoffs", json={"conversation_id": cid, "packet": packet()})
        keep(handed)
        hid = handed.json()["handoff"]["id"]
        keep(await ana.post(path, json={"body": "not claimed"}))  # 409
        keep(await ben.post(f"/v1/handoffs/{hid}/claim"))
        keep(await ben.post(path, json={"body": "ben here"}))
        keep(await ben.post(path, json={"body": "ben again"}))  # cached token: fast route if on
        keep(await ana.post(path, json={"body": "mine?"}))  # 409 claimed_by_other
        keep(await ben.post(f"/v1/handoffs/{hid}/resolve"))
        keep(await ben.get(f"/v1/conversations/{cid}"))
        # the event stream: refusals, a replay from the start, one conversation's replay
        keep(await ben.get("/v1/events", headers={"Last-Event-ID": "x"}))
        keep(await ben.get("/v1/events?last_event_id=-1"))
        keep(await bot.get("/v1/events", headers=bearer("not-a-token")))
        async with ws.client() as anon:
            keep(await anon.get("/v1/events"))
        last = (await ben.get("/v1/handoffs?status=resolved")).json()["last_event_id"]
        out["last_event_id"] = last
        out["live"] = [norm.text(line) for line in await live.until(last)]
        out["replay"] = [norm.text(line) for line in await _Stream(ben, 0).until(last)]
        out["replay_from_3"] = [norm.text(line) for line in await _Stream(ben, 3).until(last)]
    return out


def _taken_paths(monkeypatch: pytest.MonkeyPatch) -> collections.Counter[str]:
    """Count the requests and writes that went down each fast path."""
    from warmline.hub.api import events as events_api
    from warmline.hub.store import db as db_module
    from warmline.hub.store import fast

    taken: collections.Counter[str] = collections.Counter()

    def counting(name: str, owner: Any, attr: str) -> None:
        original = getattr(owner, attr)

        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            taken[name] += 1
            return await original(*args, **kwargs)

        monkeypatch.setattr(owner, attr, wrapper)

    counting("route", FastMessageRoute, "handle")
    counting("events", events_api, "answer_fast")
    counting("driver", fast, "_driver_connection")
    counting("script", db_module.Database, "_run_script")
    return taken


@pytest.fixture
def plain_database_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A second fresh database of the same engine, for the hub with fast paths off."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'plain.db'}"
        return
    base, _, name = database_url.rpartition("/")
    plain = f"{name}_plain"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(database_url, timeout=5)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{plain}"'))
    try:
        yield f"{base}/{plain}"
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{plain}" WITH (FORCE)'))


def test_fast_paths_off_answer_exactly_as_on(
    database_url: str, plain_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same requests against a hub with every fast path on and one started with them off
    (``WARMLINE_FAST_PATHS=0``, read once at start): the same statuses, bodies, stored
    transcript and event frames (live, replayed, filtered), after normalising ids and times."""
    taken = _taken_paths(monkeypatch)
    with open_workspace(database_url) as ws:
        assert ws.hub.app is not None and ws.hub.app.fast_paths is True
        fast = asyncio.run(_script(ws))
        cached = ws.hub.app.state.db.conversations
    # each fast path was taken: routes ahead of FastAPI, the SQLite driver shortcut or the
    # PostgreSQL commit script (with positions from the conversation cache)
    sqlite = database_url.startswith("sqlite")
    assert taken["route"] > 0 and taken["events"] > 0
    assert (taken["driver"] > 0) if sqlite else (taken["script"] > 0 and cached)
    taken.clear()
    monkeypatch.setenv("WARMLINE_FAST_PATHS", "0")
    with open_workspace(plain_database_url) as ws:
        assert ws.hub.app is not None and ws.hub.app.fast_paths is False
        monkeypatch.delenv("WARMLINE_FAST_PATHS")  # read once: the running hub keeps it off
        plain = asyncio.run(_script(ws))
        assert ws.hub.app.state.db.conversations is None
    assert dict(taken) == {}, "a fast path was taken with fast paths off"
    assert len(fast["answers"]) == len(plain["answers"])
    for i, (a, b) in enumerate(zip(fast["answers"], plain["answers"], strict=True)):
        assert a == b, f"answer {i} differs"
    assert fast["last_event_id"] == plain["last_event_id"]
    assert fast["live"] == plain["live"]
    assert fast["replay"] == plain["replay"] == fast["live"]
    assert fast["replay_from_3"] == plain["replay_from_3"]
    from_3 = fast["replay_from_3"]  # (after the stream's "retry:" line)
    assert from_3[1] == "id: 4" and from_3[1:] == fast["live"][-(len(from_3) - 1) :]
    statuses = [status for status, _ in fast["answers"]]
    assert statuses == [
        201,
        201,
        201,
        422,
        201,
        422,
        403,
        422,
        422,
        422,
        413,
        401,
        201,
        201,
        409,
        200,
        201,
        201,
        409,
        200,
        200,
        422,
        422,
        401,
        401,
    ]


def test_hub_command_no_fast_paths_flag(sqlite_url: str) -> None:
    """`warmline hub --no-fast-paths` reaches the hub's settings (it says fast paths are off
    at start) and the hub serves as usual; what the setting turns off, and that the answers
    stay the same, is checked by test_fast_paths_off_answer_exactly_as_on."""
    runner = CliRunner()
    bot = runner.invoke(cli_main, ["bots", "add", "b", "--database-url", sqlite_url]).stdout.splitlines()[-1]
    with hub_process(sqlite_url, "--no-fast-paths") as (proc, url, _lines):
        assert proc.stderr is not None
        assert "fast paths off" in proc.stderr.readline()
        with httpx.Client(base_url=url, timeout=10) as c:
            created = c.post("/v1/conversations", json=new_conversation(messages=0), headers=bearer(bot))
            assert created.status_code == 201
            cid, buyer = created.json()["conversation"]["id"], created.json()["buyer_token"]
            for body in ("one", "two"):  # (the second with a cached token: the fast route, if on)
                r = c.post(f"/v1/conversations/{cid}/messages", json={"body": body}, headers=bearer(buyer))
                assert r.status_code == 201 and r.json()["body"] == body
            got = c.get(f"/v1/conversations/{cid}", headers=bearer(buyer)).json()
            assert [m["body"] for m in got["messages"]] == ["one", "two"]
