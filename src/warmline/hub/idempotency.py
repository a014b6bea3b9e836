"""Idempotency-Key handling: a retry returns the first answer and creates nothing new."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError

from warmline.hub.errors import HubError
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


def _replay(row: IdempotencyRow, expected_hash: str) -> JSONResponse:
    if row.request_hash != expected_hash:
        raise HubError(
            "idempotency_key_reused",
            "this Idempotency-Key was used with a different request",
            status=422,
        )
    return JSONResponse(row.response_body, status_code=row.response_status or 200)


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
    try:
        async with db.write() as tx:
            result = await action(tx)
            body: Any = result.model_dump(mode="json")
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
                "response_body": body,
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
        return _replay(existing, fingerprint)
    return JSONResponse(body, status_code=status_code)
