"""Tokens (issue 17 item 3), both databases: `warmline agents revoke` ends the specialist's
open stream on another hub instance within seconds and every instance answers 401;
`warmline tokens rotate` keeps the old token for its grace, then 401 (agents and bots);
buyer tokens expire after their conversation is resolved, bot tokens after their TTL
(both configurable); every revocation and rotation is in `warmline audit`."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import text, update
from tests.hub.conftest import SSEReader, Workspace, bearer, open_workspace, start_hub

from warmline.cli import main
from warmline.hub.store.db import utcnow
from warmline.hub.store.tables import TokenRow


async def cli(*args: str) -> str:
    """`warmline ARGS` in a thread (the command runs its own event loop); its stdout."""
    result = await asyncio.to_thread(CliRunner().invoke, main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


async def status(url: str, token: str) -> int:
    async with httpx.AsyncClient(base_url=url, headers=bearer(token), timeout=10) as c:
        return (await c.get("/v1/me")).status_code


async def until_status(url: str, token: str, expected: int, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while await status(url, token) != expected:
            await asyncio.sleep(0.05)


async def test_revoke_closes_the_stream_on_every_instance(workspace: Workspace, database_url: str) -> None:
    other = start_hub(database_url)
    try:
        assert other.base_url is not None
        assert await status(other.base_url, workspace.ana) == 200  # (now in B's principal cache)
        async with (
            httpx.AsyncClient(base_url=other.base_url, headers=bearer(workspace.ana), timeout=30) as ana,
            SSEReader(ana) as stream,
        ):
            out = await cli("agents", "revoke", "ana", "--database-url", database_url)
            assert out == ""
            async with asyncio.timeout(5):  # the open stream ends within seconds
                await stream.ended.wait()
        assert await status(other.base_url, workspace.ana) == 401
        assert await status(workspace.url, workspace.ana) == 401
        assert await status(workspace.url, workspace.ben) == 200  # others are untouched
        entries = [
            json.loads(line)
            for line in (await cli("audit", "--json", "--database-url", database_url)).splitlines()
        ]
        revoke = [e for e in entries if e["action"] == "revoke"]
        assert revoke and revoke[0]["target"] == "agent:ana" and revoke[0]["actor"].startswith("cli:")
    finally:
        other.stop()


async def test_rotate_keeps_the_old_token_for_the_grace(workspace: Workspace, database_url: str) -> None:
    assert await status(workspace.url, workspace.ana) == 200
    async with workspace.client(workspace.ana) as ana, SSEReader(ana) as stream:
        new = (await cli("tokens", "rotate", "ana", "--grace", "2", "--database-url", database_url)).split()[
            -1
        ]
        assert await status(workspace.url, new) == 200
        assert await status(workspace.url, workspace.ana) == 200  # within the grace
        await until_status(workspace.url, workspace.ana, 401)
        async with asyncio.timeout(5):
            await stream.ended.wait()  # its stream ends with it
    assert await status(workspace.url, new) == 200
    # bots too; no grace: the old one stops at once
    new_bot = (
        await cli("tokens", "rotate", "product-ai", "--grace", "0", "--database-url", database_url)
    ).split()[-1]
    await until_status(workspace.url, workspace.bot, 401)
    assert await status(workspace.url, new_bot) == 200
    actions = [
        json.loads(x)["action"]
        for x in (await cli("audit", "--json", "--database-url", database_url)).splitlines()
    ]
    assert actions.count("rotate") == 2
    result = await asyncio.to_thread(
        CliRunner().invoke, main, ["tokens", "rotate", "nobody", "--database-url", database_url]
    )
    assert result.exit_code != 0 and "nobody" in result.output


async def test_audit_log_is_append_only(workspace: Workspace) -> None:
    await cli("agents", "revoke", "cy", "--database-url", workspace.hub.settings.database_url)

    async def tamper() -> None:
        async with workspace.hub.db.write() as tx:
            await tx.session.execute(text("UPDATE audit_log SET actor = 'someone else'"))

    with pytest.raises(Exception, match="append-only"):
        workspace.hub.run(tamper)


async def test_buyer_tokens_expire_after_resolve_and_bot_tokens_after_their_ttl(database_url: str) -> None:
    with open_workspace(database_url, buyer_token_ttl_after_resolve_s=0, bot_token_ttl_days=30) as ws:
        created = await ws.handoff()
        buyer = created["buyer_token"] if "buyer_token" in created else created["conversation"]["buyer_token"]
        hid = created["handoff"]["id"]
        lifecycle = ws.hub.app.state.lifecycle
        assert ws.hub.run(lifecycle.sweep_once())["buyer_tokens"] == 0  # still open
        assert await status(ws.url, buyer) == 200
        async with ws.client(ws.ben) as ben:
            assert (await ben.post(f"/v1/handoffs/{hid}/claim")).status_code == 200
            assert (await ben.post(f"/v1/handoffs/{hid}/resolve")).status_code == 200
        assert ws.hub.run(lifecycle.sweep_once())["buyer_tokens"] == 1
        await until_status(ws.url, buyer, 401)

        async def age_bot() -> None:
            async with ws.hub.db.write() as tx:
                await tx.session.execute(
                    update(TokenRow)
                    .where(TokenRow.kind == "bot")
                    .values(created_at=utcnow().replace(year=utcnow().year - 1)),
                    execution_options={"synchronize_session": False},
                )

        assert await status(ws.url, ws.bot) == 200
        ws.hub.run(age_bot)
        assert ws.hub.run(lifecycle.sweep_once())["bot_tokens"] == 1
        await until_status(ws.url, ws.bot, 401)
        assert await status(ws.url, ws.ben) == 200
