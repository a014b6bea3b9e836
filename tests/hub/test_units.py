"""Rules without HTTP: URL mapping, routing inference, event visibility, claim rules on a real DB."""

from __future__ import annotations

import asyncio
import contextlib
import time

import pytest
from sqlalchemy import func, select, text

from warmline.domain.models import EventType, NewConversation, NewHandoff, PrincipalKind
from warmline.domain.packet import HandoffPacket, Priority
from warmline.hub import service
from warmline.hub.errors import Conflict, NotFound
from warmline.hub.events import EventFeed, FeedEntry, parse_last_event_id, serve_events, visible_to
from warmline.hub.principal import Principal
from warmline.hub.routing import infer_routing
from warmline.hub.settings import HubSettings
from warmline.hub.store import repository as repo
from warmline.hub.store.db import Database, utcnow
from warmline.hub.store.tables import ConversationRow, EventRow, MessageRow
from warmline.storage.urls import async_database_url, sqlite_path

from .conftest import new_conversation, open_db, packet


@pytest.mark.parametrize(
    ("plain", "async_"),
    [
        ("sqlite:///tmp/x.db", "sqlite+aiosqlite:///tmp/x.db"),
        ("sqlite:////abs/x.db", "sqlite+aiosqlite:////abs/x.db"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("postgresql://u@h:5432/db", "postgresql+asyncpg://u@h:5432/db"),
        ("postgres://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+asyncpg://u@h/db"),
    ],
)
def test_async_database_url_picks_the_async_driver(plain: str, async_: str) -> None:
    assert async_database_url(plain) == async_


@pytest.mark.parametrize("bad", ["mysql://x/y", "not a url", "oracle+cx://h/db"])
def test_async_database_url_refuses_what_it_cannot_serve(bad: str) -> None:
    with pytest.raises(ValueError):
        async_database_url(bad)


def test_sqlite_path_and_default_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    assert str(sqlite_path("sqlite:////var/lib/w.db")) == "/var/lib/w.db"
    assert sqlite_path("sqlite:///:memory:") is None
    assert sqlite_path("postgresql://h/db") is None
    monkeypatch.setenv("WARMLINE_PORT", "9001")
    monkeypatch.delenv("WARMLINE_DATABASE_URL", raising=False)
    settings = HubSettings()
    assert settings.port == 9001
    assert settings.database_url.startswith("sqlite:///") and settings.database_url.endswith("warmline.db")
    assert settings.max_request_bytes == 1024 * 1024


def test_routing_infers_skills_from_families_and_reasons() -> None:
    routing = infer_routing(HandoffPacket.model_validate(packet()))
    assert routing.required_skills == ["drives", "quotes"]
    assert routing.priority is Priority.HIGH  # purchase intent


def test_routing_atex_sub_reason_and_pump_family_without_buying_is_normal() -> None:
    p = HandoffPacket.model_validate(
        packet(
            reason="complexity",
            sub_reason="atex",
            product_family="",
            products=[{"sku": "P-1", "family": "pump"}, {"sku": "S-1", "family": "sensor"}],
        )
    )
    routing = infer_routing(p)
    assert routing.required_skills == ["pumps", "atex", "sensors", "applications"]
    assert routing.priority is Priority.NORMAL


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"urgency": "line down, need it this week"}, Priority.URGENT),  # an outage
        ({"urgency": "needed this week"}, Priority.HIGH),
        ({"account": {"enterprise": True, "tier": "enterprise"}}, Priority.HIGH),
        ({}, Priority.NORMAL),
    ],
)
def test_routing_priority_from_urgency_and_account(extra: dict, expected: Priority) -> None:
    p = HandoffPacket.model_validate(packet(reason="low_confidence", **extra))
    assert infer_routing(p).priority is expected


def _entry(type_: EventType, conversation_id: str | None, *, internal: bool = False) -> FeedEntry:
    data = {"message": {"internal": internal}} if type_ is EventType.MESSAGE_CREATED else {}
    row = EventRow(
        id=1,
        type=type_.value,
        conversation_id=conversation_id,
        data=data,
        created_at=utcnow(),
        handoff_id=None,
    )
    return FeedEntry.from_row(row)


def test_buyers_see_only_their_transcript_events() -> None:
    buyer = Principal(kind=PrincipalKind.BUYER, token_id="t", name="b", conversation_id="c1")
    agent = Principal(kind=PrincipalKind.BOT, token_id="t2", name="bot")
    assert visible_to(buyer, _entry(EventType.MESSAGE_CREATED, "c1"))
    assert visible_to(buyer, _entry(EventType.CONVERSATION_CREATED, "c1"))
    assert not visible_to(buyer, _entry(EventType.MESSAGE_CREATED, "c1", internal=True))
    assert not visible_to(buyer, _entry(EventType.MESSAGE_CREATED, "c2"))
    assert not visible_to(buyer, _entry(EventType.HANDOFF_CLAIMED, "c1"))
    assert not visible_to(buyer, _entry(EventType.AGENT_CREATED, None))
    assert visible_to(agent, _entry(EventType.MESSAGE_CREATED, "c2", internal=True))
    frame = _entry(EventType.MESSAGE_CREATED, "c1").frame
    assert frame.startswith("id: 1\nevent: message.created\ndata: {") and frame.endswith("}\n\n")


def test_last_event_id_header_wins_and_must_be_a_number() -> None:
    assert parse_last_event_id("42", 7) == 42
    assert parse_last_event_id(None, 7) == 7
    assert parse_last_event_id("  ", None) is None
    with pytest.raises(Exception, match="integer"):
        parse_last_event_id("abc", None)


async def test_claim_rules_on_the_service(sqlite_url: str) -> None:
    db = await open_db(sqlite_url)
    try:
        async with db.write() as tx:
            ana, _ = await service.create_agent(tx, name="ana", skills=["drives"])
            ben, _ = await service.create_agent(tx, name="ben", skills=["all"])
            created = await service.create_handoff(
                tx,
                spec=NewHandoff(
                    conversation=NewConversation.model_validate(new_conversation()),
                    packet=HandoffPacket.model_validate(packet()),
                ),
            )
        hid = created.handoff.id
        async with db.write() as tx:
            with pytest.raises(Conflict) as exc:
                await service.release_handoff(tx, agent=ana, handoff_id=hid)
        assert exc.value.code == "not_claimed"
        async with db.write() as tx:  # a second token for the same specialist
            token = await service.issue_agent_token(tx, name="ana")
            with pytest.raises(NotFound):
                await service.issue_agent_token(tx, name="nobody")
        async with db.read() as session:
            again_ana = await service.authenticate(session, token)
        assert again_ana is not None and again_ana.agent is not None and again_ana.agent.id == ana.id
        async with db.write() as tx:
            held = await service.claim_handoff(tx, agent=ana, handoff_id=hid)
        assert held.claimed_by is not None and held.claimed_by.id == ana.id
        async with db.write() as tx:  # claiming what you hold is fine and changes nothing
            again = await service.claim_handoff(tx, agent=ana, handoff_id=hid)
        assert again.claimed_at == held.claimed_at
        for action, code in (
            (service.claim_handoff, "already_claimed"),
            (service.resolve_handoff, "claimed_by_other"),
        ):
            async with db.write() as tx:
                with pytest.raises(Conflict) as exc:
                    await action(tx, agent=ben, handoff_id=hid)
            assert exc.value.code == code and exc.value.owner is not None and exc.value.owner.id == ana.id
        async with db.write() as tx:
            done = await service.resolve_handoff(tx, agent=ana, handoff_id=hid)
        assert done.status == "resolved" and done.resolved_at is not None
        async with db.write() as tx:
            with pytest.raises(Conflict) as exc:
                await service.claim_handoff(tx, agent=ben, handoff_id=hid)
        assert exc.value.code == "resolved"
        async with db.write() as tx:
            with pytest.raises(NotFound):
                await service.claim_handoff(tx, agent=ben, handoff_id="hnd_nope")
        async with db.read() as session:
            types = [e.type for e in await repo.events_after(session, 0, limit=100)]
        # claim / resolve each wrote exactly one handoff event; refusals wrote nothing
        assert types.count("handoff.claimed") == 1 and types.count("handoff.resolved") == 1
        assert "handoff.released" not in types
    finally:
        await db.close()


async def test_a_failed_transaction_leaves_no_rows_and_no_events(sqlite_url: str) -> None:
    db = await open_db(sqlite_url)
    try:
        before = await db.last_event_id()
        with pytest.raises(RuntimeError):
            async with db.write() as tx:
                await service.create_conversation(tx, spec=NewConversation.model_validate(new_conversation()))
                await tx.session.flush()
                raise RuntimeError("boom after the rows were flushed")
        assert await db.last_event_id() == before
        async with db.read() as session:
            assert await repo.events_after(session, 0, limit=10) == []
            assert await session.scalar(select(func.count()).select_from(ConversationRow)) == 0
            assert await session.scalar(select(func.count()).select_from(MessageRow)) == 0
    finally:
        await db.close()


async def _add_agents(db: Database, n: int) -> None:
    """n agent.created events, one per transaction."""
    for _ in range(n):
        async with db.write() as tx:
            await service.create_agent(tx, name=service.new_id("a"), skills=[])


async def test_feed_holds_a_contiguous_window_and_streams_replay_older_cursors(sqlite_url: str) -> None:
    db = await open_db(sqlite_url)
    feed = EventFeed(db, poll_seconds=60, capacity=5)
    try:
        await _add_agents(db, 3)  # ids 1-3 exist before the feed starts
        await feed.start()
        assert feed.head == feed.floor == 3 and feed.since(3) == [] and feed.since(2) is None
        await _add_agents(db, 8)  # ids 4-11
        await feed.pull()
        assert feed.head == 11 and feed.floor == 6  # capacity 5: 7..11 kept
        assert [e.id for e in feed.since(6) or []] == [7, 8, 9, 10, 11]
        assert [e.id for e in feed.since(9) or []] == [10, 11]
        assert feed.since(5) is None  # too old for memory: the stream must replay from the log

        ben = Principal(kind=PrincipalKind.BOT, token_id="t", name="bot")
        ids: list[int] = []
        got_all = asyncio.Event()
        leave = asyncio.Event()

        async def receive() -> dict:
            await leave.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict) -> None:
            body = message.get("body", b"").decode()
            ids.extend(int(line[4:]) for line in body.splitlines() if line.startswith("id: "))
            if ids and ids[-1] >= 11:
                got_all.set()

        stream = asyncio.create_task(
            serve_events(feed, ben, last_event_id=1, keepalive_seconds=60, receive=receive, send=send)
        )
        await asyncio.wait_for(got_all.wait(), 10)
        leave.set()
        await asyncio.wait_for(stream, 10)
        assert ids == list(range(2, 12))  # 2-6 from the log, 7-11 from memory: no gap, no repeat
    finally:
        await feed.close()
        await db.close()


async def test_sqlite_wal_is_checkpointed_in_the_background(sqlite_url: str) -> None:
    """Commits no longer checkpoint inline (the limit is only a fallback); the hub's own
    checkpoints put committed rows into the main database file within a few seconds."""
    import sqlite3

    from warmline.storage.engine import WAL_FALLBACK_PAGES

    db = await open_db(sqlite_url)
    try:
        async with db.read() as session:
            pages = (await session.execute(text("PRAGMA wal_autocheckpoint"))).scalar()
        assert pages == WAL_FALLBACK_PAGES
        await _add_agents(db, 30)
        path = sqlite_path(sqlite_url)
        assert path is not None

        def in_main_file() -> int:  # immutable=1 reads the database file alone, not the WAL
            with contextlib.closing(sqlite3.connect(f"file:{path}?immutable=1", uri=True)) as conn:
                return int(conn.execute("SELECT count(*) FROM events").fetchone()[0])

        deadline = time.monotonic() + 10
        while in_main_file() < 30:
            assert time.monotonic() < deadline, "the WAL was never checkpointed"
            await asyncio.sleep(0.1)
    finally:
        await db.close()
