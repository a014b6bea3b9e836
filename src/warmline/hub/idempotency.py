"""Idempotency-Key handling: a retry returns the first answer and creates nothing new."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from warmline.hub.errors import HubError
from warmline.hub.lifecycle import sealing
from warmline.hub.principal import Principal
from warmline.hub.store import repository as repo
from warmline.hub.store.db import Database, Tx, utcnow
from warmline.hub.store.tables import IdempotencyRow

MAX_KEY_CHARS = 200


def request_hash(method: str, path: str, body: BaseModel) -> str:
    """What makes two requests 'the same' for a key: route and parsed body."""
    canonical = json.dumps(
        [method, path, body.model_dump(mode="json")], sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


async def _replay(db: Database, row: IdempotencyRow, expected_hash: str) -> JSONResponse:
    if row.request_hash != expected_hash:
        raise HubError(
            "idempotency_key_reused",
            "this Idempotency-Key was used with a different request",
            status=422,
        )
    body = row.response_body
    if sealing.needs_sealing(body):  # a secret (the buyer token) is stored sealed
        body = sealing.unseal_body(await sealing.hub_key(db), body)
    return JSONResponse(body, status_code=row.response_status or 200)


def _expired(db: Database, row: IdempotencyRow) -> bool:
    """Past ``idempotency_ttl_s`` (and not yet swept): the key counts as new."""
    ttl = sealing.config_of(db).idempotency_ttl_s
    return ttl > 0 and (utcnow() - row.created_at).total_seconds() > ttl


async def _forget(db: Database, row: IdempotencyRow) -> None:
    async with db.write() as tx:
        await tx.session.execute(delete(IdempotencyRow).where(IdempotencyRow.id == row.id))


async def run_idempotent(
    db: Database,
    *,
    principal: Principal,
    key: str | None,
    fingerprint: str,
    status_code: int,
    action: Callable[[Tx], Awaitable[BaseModel]],
) -> JSONResponse:
    """Run ``action`` in one transaction, recording its answer under (principal, key)."""
    if key is None:
        async with db.write() as tx:
            result = await action(tx)
        return JSONResponse(result.model_dump(mode="json"), status_code=status_code)
    if not key or len(key) > MAX_KEY_CHARS:
        raise HubError(
            "bad_idempotency_key", f"Idempotency-Key must be 1-{MAX_KEY_CHARS} characters", status=422
        )
    for attempt in (1, 2):
        try:
            return await _run_keyed(db, principal, key, fingerprint, status_code, action)
        except _ExpiredKey as expired:  # the stored answer outlived its TTL: run as new, once
            await _forget(db, expired.row)
            if attempt == 2:
                raise HubError("idempotency_key_busy", "retry this request", status=409) from None
    raise AssertionError("unreachable")


class _ExpiredKey(Exception):
    def __init__(self, row: IdempotencyRow) -> None:
        self.row = row


async def _run_keyed(
    db: Database,
    principal: Principal,
    key: str,
    fingerprint: str,
    status_code: int,
    action: Callable[[Tx], Awaitable[BaseModel]],
) -> JSONResponse:
    sealer = await sealing.hub_key(db)  # (cached; read before the writer lock is taken)
    try:
        async with db.write() as tx:
            result = await action(tx)
            body: Any = result.model_dump(mode="json")
            stored = body
            if sealing.needs_sealing(body):  # no secret in clear in the table
                stored = sealing.seal_body(sealer, body)
            # The key row goes in last, in the same transaction as what it created: a first
            # request costs no extra round trip, and a retry (or a concurrent duplicate, which
            # waits on the unique index until the first commits) fails here, rolls all of its
            # work back, and replays the stored answer below.
            # (On PostgreSQL it goes with the commit, before the events: a taken key fails
            # there, still inside write(), with the same IntegrityError.)
            row = {
                "principal": principal.key,
                "key": key,
                "request_hash": fingerprint,
                "response_status": status_code,
                "response_body": stored,
                "created_at": utcnow(),
            }
            if not await tx.insert_at_commit(IdempotencyRow.__tablename__, tuple(row), [row]):
                await repo.insert_idempotency(tx.session, row)
    except (IntegrityError, HubError):
        # Either the key is taken (the first answer is stored), or the action refused and
        # this may be a retry whose first attempt is what now blocks it (e.g. the handoff it
        # opened): both replay the stored answer; with no stored answer the error stands.
        async with db.read() as session:
            existing = await repo.idempotency(session, principal.key, key)
        if existing is None or existing.response_status is None:
            raise
        if _expired(db, existing):
            raise _ExpiredKey(existing) from None
        return await _replay(db, existing, fingerprint)
    return JSONResponse(body, status_code=status_code)
