"""Revoking and rotating tokens (``warmline agents revoke``, ``warmline tokens rotate``).

A token is never deleted: it gets an ``expires_at`` (now for a revocation, now + the grace
for the tokens a rotation replaces) and stops authenticating from then on. Each change
bumps ``hub_state``'s revocation counter and is audited; every hub instance sees the
counter within ``revocation_poll_s``, forgets its cached principals and ends the open
event streams of tokens that no longer authenticate (warmline.hub.lifecycle.runner).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update

from warmline.domain.models import PrincipalKind
from warmline.hub.errors import NotFound
from warmline.hub.lifecycle import audit, state
from warmline.hub.service.accounts import issue_token
from warmline.hub.store import repository as repo
from warmline.hub.store.db import Tx, utcnow
from warmline.hub.store.tables import TokenRow


@dataclass(frozen=True)
class Rotated:
    kind: str  # agent | bot
    name: str
    token: str  # the new one
    old_valid_until: datetime
    replaced: int


def _live(now: datetime):  # type: ignore[no-untyped-def]
    return or_(TokenRow.expires_at.is_(None), TokenRow.expires_at > now)


async def _owner(tx: Tx, name: str) -> tuple[str, str | None]:
    """``("agent", agent_id)`` or ``("bot", None)`` for a name; 404 when neither."""
    agent = await repo.agent_by_name(tx.session, name)
    if agent is not None:
        return "agent", agent.id
    bot = await tx.session.scalar(
        select(TokenRow.id).where(TokenRow.kind == PrincipalKind.BOT.value, TokenRow.name == name).limit(1)
    )
    if bot is None:
        raise NotFound("agent or bot", name)
    return "bot", None


def _tokens_of(kind: str, agent_id: str | None, name: str):  # type: ignore[no-untyped-def]
    if kind == "agent":
        return TokenRow.agent_id == agent_id
    return (TokenRow.kind == PrincipalKind.BOT.value) & (TokenRow.name == name)


async def revoke(tx: Tx, *, name: str, actor: str) -> int:
    """Every live token of agent or bot ``name`` stops working now; how many."""
    kind, agent_id = await _owner(tx, name)
    now = utcnow()
    result = await tx.session.execute(
        update(TokenRow).where(_tokens_of(kind, agent_id, name), _live(now)).values(expires_at=now),
        execution_options={"synchronize_session": False},
    )
    count = int(result.rowcount or 0)  # type: ignore[attr-defined]
    await state.bump(tx.session, state.REVOCATIONS)
    await audit.record(
        tx.session, actor=actor, action="revoke", target=f"{kind}:{name}", detail={"tokens": count}
    )
    return count


async def rotate(tx: Tx, *, name: str, grace_s: float, actor: str) -> Rotated:
    """A new token for agent or bot ``name``; its other live tokens work ``grace_s`` more."""
    kind, agent_id = await _owner(tx, name)
    now = utcnow()
    until = now + timedelta(seconds=grace_s)
    result = await tx.session.execute(
        update(TokenRow)
        .where(
            _tokens_of(kind, agent_id, name), or_(TokenRow.expires_at.is_(None), TokenRow.expires_at > until)
        )
        .values(expires_at=until),
        execution_options={"synchronize_session": False},
    )
    replaced = int(result.rowcount or 0)  # type: ignore[attr-defined]
    token = await issue_token(
        tx, kind=PrincipalKind.AGENT if kind == "agent" else PrincipalKind.BOT, name=name, agent_id=agent_id
    )
    await state.bump(tx.session, state.REVOCATIONS)
    await audit.record(
        tx.session,
        actor=actor,
        action="rotate",
        target=f"{kind}:{name}",
        detail={"replaced": replaced, "old_valid_until": until.isoformat(), "grace_s": grace_s},
    )
    return Rotated(kind, name, token, until, replaced)
