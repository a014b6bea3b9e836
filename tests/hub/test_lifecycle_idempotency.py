"""Idempotency expiry (issue 17 item 1), both databases: a replay inside the TTL answers the
first response (the same buyer token), the stored answer holds no token in clear, after the
TTL the key is new, and the sweep removes expired rows in batches, keeping fresh ones."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update
from tests.hub.conftest import Workspace, new_conversation

from warmline.hub.lifecycle import sealing
from warmline.hub.store.db import utcnow
from warmline.hub.store.tables import IdempotencyRow


async def _create(ws: Workspace, key: str) -> dict:
    async with ws.client(ws.bot) as c:
        r = await c.post("/v1/conversations", json=new_conversation(), headers={"Idempotency-Key": key})
    assert r.status_code == 201, r.text
    return r.json()


def _age_all(ws: Workspace, seconds: float) -> None:
    async def run() -> None:
        async with ws.hub.db.write() as tx:
            await tx.session.execute(
                update(IdempotencyRow).values(created_at=utcnow() - timedelta(seconds=seconds)),
                execution_options={"synchronize_session": False},
            )

    ws.hub.run(run)


def _stored_bodies(ws: Workspace) -> list:
    async def run() -> list:
        async with ws.hub.db.read() as session:
            return list(await session.scalars(select(IdempotencyRow.response_body)))

    return ws.hub.run(run)


async def test_replay_inside_ttl_is_identical_and_keeps_no_token_in_clear(workspace: Workspace) -> None:
    first = await _create(workspace, "conv-1")
    again = await _create(workspace, "conv-1")
    assert again == first  # the same conversation and the same buyer token
    token = first["buyer_token"]
    async with workspace.client(token) as c:
        r = await c.get(f"/v1/conversations/{first['conversation']['id']}")
    assert r.status_code == 200
    bodies = _stored_bodies(workspace)
    assert len(bodies) == 1
    assert token not in repr(bodies)
    assert bodies[0]["buyer_token"].startswith(sealing.SEALED_PREFIX)
    assert bodies[0]["conversation"]["id"] == first["conversation"]["id"]


async def test_after_the_ttl_the_key_is_new(workspace: Workspace) -> None:
    first = await _create(workspace, "conv-2")
    _age_all(workspace, 24 * 3600 + 60)  # past the default TTL, not yet swept
    second = await _create(workspace, "conv-2")
    assert second["conversation"]["id"] != first["conversation"]["id"]
    assert second["buyer_token"] != first["buyer_token"]
    assert await _create(workspace, "conv-2") == second  # and the new answer is replayed


async def test_sweep_removes_expired_keys_in_batches(workspace: Workspace) -> None:
    for i in range(5):
        await _create(workspace, f"old-{i}")
    _age_all(workspace, 25 * 3600)
    fresh = await _create(workspace, "fresh")
    lifecycle = workspace.hub.app.state.lifecycle
    lifecycle.settings = lifecycle.settings.model_copy(update={"sweep_batch": 2})
    done = workspace.hub.run(lifecycle.sweep_once())
    assert done["idempotency_keys"] == 5

    async def count() -> int:
        async with workspace.hub.db.read() as session:
            return int(await session.scalar(select(func.count()).select_from(IdempotencyRow)) or 0)

    assert workspace.hub.run(count) == 1
    assert await _create(workspace, "fresh") == fresh
