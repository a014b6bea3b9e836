"""Audit regressions on the event stream (issue 19): resuming from below the feed's floor.

A buyer stream filtered to its conversation used to replay from the log without ever
moving its cursor when the conversation had nothing newer: the stream's task queried the
database in a tight loop (84 % CPU, thousands of transactions a second, no keepalives).
The natural trigger is a buyer reconnecting after a hub restart: the new hub's feed starts
at the end of the log, so the buyer's last id is below its floor.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from sqlalchemy import event

from warmline.hub.embedded import EmbeddedHub

from .conftest import SSEReader, bearer, new_conversation, packet, start_hub

WINDOW = 2.0
KEEPALIVE = 0.4


class StatementCounter:
    """Counts what the hub's engine does with SQLAlchemy event listeners: statements through
    SQLAlchemy's cursor, and connection checkouts (the hub's SQLite fast statements talk to
    the driver directly, but every one of them checks a connection out of the pool first)."""

    def __init__(self, hub: EmbeddedHub) -> None:
        self.engine = hub.db.engine.sync_engine
        self.statements = 0
        self.checkouts = 0

    @property
    def count(self) -> int:
        return max(self.statements, self.checkouts)

    def _statement(self, *_args: Any) -> None:
        self.statements += 1

    def _checkout(self, *_args: Any) -> None:
        self.checkouts += 1

    def __enter__(self) -> StatementCounter:
        event.listen(self.engine, "before_cursor_execute", self._statement)
        event.listen(self.engine, "checkout", self._checkout)
        return self

    def __exit__(self, *_exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._statement)
        event.remove(self.engine, "checkout", self._checkout)


def _seed(url: str) -> tuple[str, str, str, int]:
    """A quiet buyer conversation, then other traffic after it; returns the buyer's token,
    its conversation, a bot token and the last event id the buyer saw."""
    hub = start_hub(url)
    try:
        bot = hub.create_bot("product-ai")
        assert hub.base_url is not None
        with httpx.Client(base_url=hub.base_url, headers=bearer(bot), timeout=30) as c:
            r = c.post("/v1/handoffs", json={"conversation": new_conversation(), "packet": packet()})
            assert r.status_code == 201, r.text
            mine = r.json()
            cid = mine["handoff"]["conversation_id"]
            seen = c.get(f"/v1/conversations/{cid}").json()
            assert seen["messages"]
            last_seen = c.get("/v1/handoffs").json()["last_event_id"]
            for i in range(6):  # other conversations move on; the buyer's stays quiet
                r = c.post(
                    "/v1/handoffs",
                    json={"conversation": new_conversation(f"Other {i}"), "packet": packet()},
                )
                assert r.status_code == 201, r.text
        return mine["buyer_token"], cid, bot, last_seen
    finally:
        hub.stop()


async def test_buyer_resuming_below_the_floor_is_idle_and_gets_keepalives(database_url: str) -> None:
    buyer_token, cid, bot, last_seen = _seed(database_url)
    hub = start_hub(database_url, sse_keepalive_seconds=KEEPALIVE)  # "after a restart"
    try:
        assert hub.base_url is not None
        floor = hub.run(lambda: _floor(hub))
        assert floor > last_seen, (floor, last_seen)  # the buyer's cursor is below the feed
        async with (
            httpx.AsyncClient(base_url=hub.base_url, headers=bearer(buyer_token), timeout=30) as buyer,
            SSEReader(buyer, last_event_id=last_seen) as stream,
        ):
            await asyncio.sleep(0.3)  # let the stream replay and attach
            comments = stream.comments
            with StatementCounter(hub) as statements:
                cpu = time.process_time()
                await asyncio.sleep(WINDOW)
                cpu = time.process_time() - cpu
            print(
                f"stream below the floor, {WINDOW:.0f} s idle: {statements.statements} statements, "
                f"{statements.checkouts} connection checkouts, "
                f"{cpu * 1000:.0f} ms CPU (process), {stream.comments - comments} keepalives"
            )
            # before the fix: thousands of statements and ~a full core over the window
            assert statements.count <= 5, statements.count
            assert cpu < 0.5 * WINDOW, cpu
            assert stream.comments - comments >= 2, "no keepalives while idle"
            assert stream.events == []  # nothing of other conversations
            # and it is live: the buyer's next message arrives
            async with httpx.AsyncClient(base_url=hub.base_url, headers=bearer(bot), timeout=30) as c:
                r = await c.post(f"/v1/conversations/{cid}/messages", json={"body": "still there?"})
                assert r.status_code == 201, r.text
            events = await stream.wait_for(lambda ev: len(ev) >= 1)
            assert events[0]["data"]["message"]["body"] == "still there?"
            assert events[0]["id"] > floor
    finally:
        hub.stop()


async def test_agent_resuming_below_the_floor_replays_then_idles(database_url: str) -> None:
    """The unfiltered replay too ends at the feed's head, then follows the feed."""
    _buyer, _cid, _bot, last_seen = _seed(database_url)
    hub = start_hub(database_url, sse_keepalive_seconds=KEEPALIVE)
    try:
        assert hub.base_url is not None
        _agent, token = hub.create_agent("ana", ["all"])
        floor = hub.run(lambda: _floor(hub))
        async with (
            httpx.AsyncClient(base_url=hub.base_url, headers=bearer(token), timeout=30) as ana,
            SSEReader(ana, last_event_id=last_seen) as stream,
        ):
            events = await stream.wait_for(lambda ev: bool(ev) and ev[-1]["id"] >= floor)
            ids = [e["id"] for e in events]
            assert ids == list(range(last_seen + 1, ids[-1] + 1))
            with StatementCounter(hub) as statements:
                await asyncio.sleep(1.0)
            assert statements.count <= 5, statements.count
    finally:
        hub.stop()


async def _floor(hub: EmbeddedHub) -> int:
    return hub.app.state.feed.floor  # type: ignore[union-attr]
