"""The message POST's hot path: FastStatement (one aiosqlite round trip per statement) and
FastMessageRoute (the POST without FastAPI's layers) must answer and store exactly what the
ordinary paths do. Real hub over HTTP, real SQLite and PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from warmline.domain.models import NewConversation
from warmline.hub import service
from warmline.hub.api.conversations import FastMessageRoute
from warmline.hub.store import repository as repo
from warmline.hub.store.db import utcnow
from warmline.hub.store.fast import FastStatement
from warmline.hub.store.tables import IdempotencyRow, MessageRow

from .conftest import Workspace, bearer, new_conversation, open_db


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
