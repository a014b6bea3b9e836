"""Bearer-token authentication and the per-kind guards the endpoints declare."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from warmline.domain.models import Agent, PrincipalKind
from warmline.hub import service
from warmline.hub.errors import Forbidden, Unauthorized
from warmline.hub.principal import Principal
from warmline.hub.store.db import Database

_bearer = HTTPBearer(auto_error=False, description="a Warmline agent, bot or buyer token")


async def get_db(request: Request) -> Database:
    """The app's database (created in the lifespan). Async on purpose: FastAPI runs a plain
    ``def`` dependency in its thread pool, a thread round trip on every request."""
    return request.app.state.db


DB = Annotated[Database, Depends(get_db)]


class PrincipalCache:
    """Known tokens for a short while, to spare every request a lookup.

    Unknown tokens are never cached. A revocation anywhere empties every instance's cache
    within seconds (``clear``, from warmline.hub.lifecycle.runner); a token with an expiry
    (a rotation's grace) is not answered from the cache past it.
    """

    def __init__(self, ttl_seconds: float = 60.0, max_entries: int = 10_000) -> None:
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self._items: dict[str, tuple[float, Principal]] = {}

    def get(self, token: str) -> Principal | None:
        hit = self._items.get(token)
        if hit is None:
            return None
        expires_at = hit[1].expires_at
        if hit[0] < time.monotonic() or (expires_at is not None and expires_at <= datetime.now(UTC)):
            self._items.pop(token, None)
            return None
        return hit[1]

    def clear(self) -> None:
        self._items.clear()

    def put(self, token: str, principal: Principal) -> None:
        if len(self._items) >= self.max_entries:
            self._items.clear()
        self._items[token] = (time.monotonic() + self.ttl, principal)


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (as HTTPBearer reads it)."""
    scheme, _, token = (authorization or "").partition(" ")
    token = token.strip()
    if not scheme or not token or scheme.lower() != "bearer":
        return None
    return token


def cached_principal(app: Any, token: str) -> Principal | None:
    """The principal behind ``token`` if the app's cache knows it (no database read)."""
    cache: PrincipalCache = app.state.principals
    return cache.get(service.hash_token(token))


async def current_principal(
    request: Request, db: DB, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    """401 without a token or with an unknown one."""
    if credentials is None or not credentials.credentials:
        raise Unauthorized("unauthorized", "send 'Authorization: Bearer <token>'")
    cache: PrincipalCache = request.app.state.principals
    token_hash = service.hash_token(credentials.credentials)
    principal = cache.get(token_hash)
    if principal is None:
        async with db.read() as session:
            principal = await service.authenticate(session, credentials.credentials)
        if principal is None:
            raise Unauthorized("unauthorized", "unknown token")
        cache.put(token_hash, principal)
    return principal


Caller = Annotated[Principal, Depends(current_principal)]


def allow(*kinds: PrincipalKind):
    """A dependency admitting only these principal kinds (403 for the others)."""

    async def guard(principal: Caller) -> Principal:
        if principal.kind not in kinds:
            allowed = " or ".join(k.value for k in kinds)
            raise Forbidden("forbidden", f"this needs a {allowed} token, not a {principal.kind.value} token")
        return principal

    return guard


AgentOrBot = Annotated[Principal, Depends(allow(PrincipalKind.AGENT, PrincipalKind.BOT))]
BotOnly = Annotated[Principal, Depends(allow(PrincipalKind.BOT))]


async def _agent(principal: Annotated[Principal, Depends(allow(PrincipalKind.AGENT))]) -> Agent:
    assert principal.agent is not None
    return principal.agent


AgentOnly = Annotated[Agent, Depends(_agent)]
