"""Bearer-token authentication and the per-kind guards the endpoints declare."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from warmline.domain.models import Agent, PrincipalKind
from warmline.hub import service
from warmline.hub.errors import Forbidden, Unauthorized
from warmline.hub.principal import Principal
from warmline.hub.store.db import Database

_bearer = HTTPBearer(auto_error=False, description="a Warmline agent, bot or buyer token")


def get_db(request: Request) -> Database:
    """The app's database (created in the lifespan)."""
    return request.app.state.db


DB = Annotated[Database, Depends(get_db)]


async def current_principal(
    db: DB, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    """401 without a token or with an unknown one."""
    if credentials is None or not credentials.credentials:
        raise Unauthorized("unauthorized", "send 'Authorization: Bearer <token>'")
    async with db.read() as session:
        principal = await service.authenticate(session, credentials.credentials)
    if principal is None:
        raise Unauthorized("unauthorized", "unknown token")
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
