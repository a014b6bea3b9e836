"""Backup and restore (issue 17 item 5), both databases: a backup taken while buyers keep
posting holds every message and event acknowledged before it began (and a consistent
log: each restored message has its event); after `warmline restore`, new event ids come
after the restored ones, a client whose cursor saw lost events gets a `reset`, and both
the backup and the restore are in the audit log."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator

from sqlalchemy import select
from tests.conftest import POSTGRES_ADMIN_URL, _pg_execute
from tests.hub.conftest import SSEReader, Workspace, open_db, start_hub
from tests.hub.test_lifecycle_tokens import cli

from warmline.hub.lifecycle.backup import RESTORE_GAP
from warmline.hub.store.tables import EventRow, MessageRow


@contextlib.asynccontextmanager
async def empty_database(database_url: str, tmp_path) -> AsyncIterator[str]:
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored' / 'warmline.db'}"
        return
    name = f"warmline_test_{uuid.uuid4().hex[:12]}"
    await asyncio.to_thread(_pg_execute, f'CREATE DATABASE "{name}"')
    try:
        yield f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        await asyncio.to_thread(_pg_execute, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _log(url: str) -> tuple[dict[int, str], set[str], dict[str, int]]:
    """Events (id -> type), message ids, and message id -> the id of its event."""
    db = await open_db(url)
    try:
        async with db.read() as session:
            events = {r.id: r.type for r in await session.scalars(select(EventRow))}
            messages = set(await session.scalars(select(MessageRow.id)))
            created = {
                r.data["message"]["id"]: r.id
                for r in await session.scalars(select(EventRow).where(EventRow.type == "message.created"))
            }
    finally:
        await db.close()
    return events, messages, created


async def test_backup_under_write_load_restores_everything_acknowledged(
    workspace: Workspace, database_url: str, tmp_path
) -> None:
    created = await workspace.handoff()
    cid, buyer = created["handoff"]["conversation_id"], created["buyer_token"]
    acked: list[str] = []
    stop = asyncio.Event()

    async def post(n: int) -> None:
        async with workspace.client(buyer) as c:
            i = 0
            while not stop.is_set():
                i += 1
                r = await c.post(f"/v1/conversations/{cid}/messages", json={"body": f"w{n} #{i}"})
                assert r.status_code == 201, r.text
                acked.append(r.json()["id"])

    writers = [asyncio.create_task(post(n)) for n in range(2)]
    try:
        while len(acked) < 20:
            await asyncio.sleep(0.01)
        acked_before = set(acked)
        async with workspace.client(workspace.ben) as ben:
            events_before = (await ben.get("/v1/handoffs")).json()["last_event_id"]
        backup_file = tmp_path / "backups" / "warmline.backup"
        await cli("backup", str(backup_file), "--database-url", database_url)
        during = len(acked)
        while len(acked) < during + 10:  # the load went on during and after the backup
            await asyncio.sleep(0.01)
    finally:
        stop.set()
        await asyncio.gather(*writers)
    original, _, _ = await _log(database_url)

    async with empty_database(database_url, tmp_path) as restored_url:
        await cli("restore", str(backup_file), "--yes", "--database-url", restored_url)
        events, messages, event_of = await _log(restored_url)
        assert acked_before <= messages  # every acknowledged message
        assert {i: t for i, t in original.items() if i <= events_before}.items() <= events.items()
        assert set(event_of) == messages  # a consistent log: each message with its event
        assert {i: t for i, t in original.items() if i in events} == events  # nothing invented
        newest = max(events)

        hub = start_hub(restored_url)
        try:
            assert hub.base_url is not None
            async with workspace.client(buyer) as c:
                c.base_url = hub.base_url  # type: ignore[assignment]
                r = await c.post(f"/v1/conversations/{cid}/messages", json={"body": "after the restore"})
                assert r.status_code == 201, r.text
            _, _, event_of = await _log(restored_url)
            assert event_of[r.json()["id"]] == newest + RESTORE_GAP  # new ids continue after
            # a console that saw events the backup lacks: told to reload
            async with workspace.client(workspace.ben) as ben:
                ben.base_url = hub.base_url  # type: ignore[assignment]
                async with SSEReader(ben, last_event_id=newest + 3) as stream:
                    got = await stream.wait_for(lambda ev: bool(ev))
                assert got[0]["type"] == "reset"
                async with SSEReader(ben, last_event_id=newest) as stream:  # (an up-to-date one: not)
                    got = await stream.wait_for(lambda ev: bool(ev))
                assert got[0]["type"] == "message.created"
        finally:
            hub.stop()
        actions = [
            json.loads(x)["action"]
            for x in (await cli("audit", "--json", "--database-url", restored_url)).splitlines()
        ]
        assert "backup" in actions and actions[-1] == "restore"


def test_restore_refuses_a_file_that_is_not_a_backup(tmp_path) -> None:
    from click.testing import CliRunner

    from warmline.cli import main

    bogus = tmp_path / "bogus.db"
    bogus.write_bytes(b"not a database")
    result = CliRunner().invoke(
        main, ["restore", str(bogus), "--yes", "--database-url", f"sqlite:///{tmp_path / 'x.db'}"]
    )
    assert result.exit_code != 0
    assert "not a database" in result.output or "integrity" in result.output or "Warmline" in result.output
