"""Event log retention (issue 17 item 2), both databases, two hub instances on one database:
one sweeps, the other serves streams. A stream resuming inside the kept range replays it;
at its edge it replays from the oldest kept event; beyond it, it gets a `reset` event (with
the oldest id kept) and then goes on live -- never a silent gap."""

from __future__ import annotations

import contextlib
from datetime import timedelta

import httpx
from sqlalchemy import func, select, update
from tests.hub.conftest import SSEReader, Workspace, bearer, start_hub

from warmline.hub.lifecycle import state
from warmline.hub.store.db import utcnow
from warmline.hub.store.tables import EventRow


def _age_events(ws: Workspace, upto: int, days: float) -> None:
    async def run() -> None:
        async with ws.hub.db.write() as tx:
            await tx.session.execute(
                update(EventRow)
                .where(EventRow.id <= upto)
                .values(created_at=utcnow() - timedelta(days=days)),
                execution_options={"synchronize_session": False},
            )

    ws.hub.run(run)


async def test_resume_inside_at_the_edge_and_beyond_retention(
    workspace: Workspace, database_url: str
) -> None:
    for _ in range(4):
        await workspace.handoff()
    async with workspace.client(workspace.ben) as ben:
        old_end = (await ben.get("/v1/handoffs")).json()["last_event_id"]
    for _ in range(2):
        await workspace.handoff()
    _age_events(workspace, old_end, days=31)

    lifecycle = workspace.hub.app.state.lifecycle
    lifecycle.settings = lifecycle.settings.model_copy(update={"sweep_batch": 3})
    done = workspace.hub.run(lifecycle.sweep_once())
    assert done["events"] == old_end  # every aged event, in batches of 3; the rest kept

    async def marks() -> tuple[int, int]:
        async with workspace.hub.db.read() as session:
            trimmed = await state.get_int(session, state.EVENTS_TRIMMED_THROUGH)
            oldest = int(await session.scalar(select(func.min(EventRow.id))) or 0)
        return trimmed, oldest

    trimmed, oldest = workspace.hub.run(marks)
    assert trimmed == old_end and oldest == old_end + 1

    other = start_hub(database_url)  # a second instance: its feed starts at the log's end
    try:
        assert other.base_url is not None
        async with httpx.AsyncClient(
            base_url=other.base_url, headers=bearer(workspace.ben), timeout=30
        ) as ben:
            head = (await ben.get("/v1/handoffs")).json()["last_event_id"]
            # inside the kept range
            async with SSEReader(ben, last_event_id=oldest + 1) as inside:
                got = await inside.wait_for(lambda ev: bool(ev) and ev[-1]["id"] >= head)
            assert [e["id"] for e in got] == list(range(oldest + 2, head + 1))
            # at its edge: the cursor is the last removed id, nothing after it is missing
            async with SSEReader(ben, last_event_id=trimmed) as edge:
                got = await edge.wait_for(lambda ev: bool(ev) and ev[-1]["id"] >= head)
            assert [e["id"] for e in got] == list(range(oldest, head + 1))
            assert all(e["type"] != "reset" for e in got)
            # beyond it: an explicit reset, then live events
            async with SSEReader(ben, last_event_id=trimmed - 1) as beyond:
                got = await beyond.wait_for(lambda ev: bool(ev))
                assert got[0]["type"] == "reset"
                assert got[0]["data"]["oldest_id"] == oldest
                assert got[0]["id"] == head
                await workspace.handoff()  # made on the first instance, seen on the second
                got = await beyond.wait_for(lambda ev: any(e["type"] == "handoff.created" for e in ev))
            assert all(e["id"] > head for e in got[1:])
    finally:
        other.stop()


async def test_nothing_is_removed_inside_retention(workspace: Workspace) -> None:
    for _ in range(2):
        await workspace.handoff()
    lifecycle = workspace.hub.app.state.lifecycle
    assert workspace.hub.run(lifecycle.sweep_once())["events"] == 0


async def test_console_stream_reloads_on_reset(workspace: Workspace, database_url: str) -> None:
    """The console's EventStream hands a `reset` to its owner (which reloads the queue) and
    resumes after it: no replay of what retention removed, no repeated reset."""
    import asyncio

    from warmline.console.client.events import EventStream
    from warmline.console.client.hub_client import HubClient

    for _ in range(3):
        await workspace.handoff()
    async with workspace.client(workspace.ben) as ben:
        end = (await ben.get("/v1/handoffs")).json()["last_event_id"]
    _age_events(workspace, end - 1, days=31)
    workspace.hub.run(workspace.hub.app.state.lifecycle.sweep_once())
    other = start_hub(database_url)  # (its feed starts at the log's end: the cursor is older)
    resets: list[int] = []
    seen: list[int] = []
    client = HubClient(other.base_url or "", workspace.ben)
    stream = EventStream(
        client, last_event_id=1, on_event=lambda e: seen.append(e.id), on_state=lambda *_: None
    )
    stream.on_reset = lambda: resets.append(stream.last_event_id)
    task = asyncio.create_task(stream.run())
    try:
        async with asyncio.timeout(10):
            while not resets:
                await asyncio.sleep(0.01)
        created = await workspace.handoff()
        async with asyncio.timeout(10):
            while not any(i > end for i in seen):
                await asyncio.sleep(0.01)
        assert resets == [end] and stream.resets == 1
        assert all(i > end for i in seen) and created
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await client.aclose()
        other.stop()
