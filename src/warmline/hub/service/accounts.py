"""Who may call the hub: ids, bearer tokens (stored hashed), authentication, specialists
(agents) and bot tokens."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from warmline.domain.models import Agent, EventType, PrincipalKind
from warmline.domain.skills import default_taxonomy
from warmline.hub.errors import Conflict, NotFound, field_error
from warmline.hub.principal import Principal
from warmline.hub.service.views import agent_model
from warmline.hub.store import repository as repo
from warmline.hub.store.db import Tx, utcnow
from warmline.hub.store.tables import AgentRow, TokenRow

ALL_SKILLS = "all"


def new_id(prefix: str) -> str:
    """A unique, prefixed id (prefix tells a human what it is)."""
    return f"{prefix}_{uuid.uuid4().hex}"


def hash_token(token: str) -> str:
    """Tokens are stored as SHA-256 only."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


async def issue_token(
    tx: Tx, *, kind: PrincipalKind, name: str, agent_id: str | None = None, conversation_id: str | None = None
) -> str:
    token = secrets.token_urlsafe(32)
    tx.session.add(
        TokenRow(
            id=new_id("tok"),
            token_hash=hash_token(token),
            kind=kind.value,
            name=name,
            agent_id=agent_id,
            conversation_id=conversation_id,
            created_at=utcnow(),
        )
    )
    return token


async def authenticate(session: AsyncSession, token: str) -> Principal | None:
    """The principal behind a bearer token, or None when the token is unknown."""
    row = await repo.token_by_hash(session, hash_token(token))
    if row is None:
        return None
    expires_at = row.expires_at
    if expires_at is not None and expires_at <= utcnow():  # revoked, rotated out or expired
        return None
    kind = PrincipalKind(row.kind)
    if kind is PrincipalKind.AGENT:
        agent_row = await repo.agent(session, row.agent_id or "")
        if agent_row is None:
            return None
        agent = agent_model(agent_row)
        return Principal(kind=kind, token_id=row.id, name=agent.name, agent=agent, expires_at=expires_at)
    return Principal(
        kind=kind, token_id=row.id, name=row.name, conversation_id=row.conversation_id, expires_at=expires_at
    )


def check_skills(skills: Sequence[str], loc: tuple[str | int, ...]) -> list[str]:
    known = default_taxonomy().labels
    cleaned: list[str] = []
    for i, skill in enumerate(skills):
        s = skill.strip()
        if s not in known:
            raise field_error((*loc, i), f"unknown skill {skill!r}; known: {', '.join(known)}", value=skill)
        if s not in cleaned:
            cleaned.append(s)
    return cleaned


async def create_agent(
    tx: Tx, *, name: str, skills: Sequence[str], display_name: str = "", max_active: int | None = None
) -> tuple[Agent, str]:
    """Add a specialist and issue its token (``skills=["all"]`` means every skill); ``max_active``:
    how many handoffs they may hold (None: the workspace's max_active_per_agent)."""
    all_skills = ALL_SKILLS in [s.strip() for s in skills]
    cleaned = [] if all_skills else check_skills(skills, ("body", "skills"))
    if await repo.agent_by_name(tx.session, name) is not None:
        raise Conflict("name_taken", f"an agent named {name!r} already exists")
    row = AgentRow(
        id=new_id("agt"),
        name=name,
        display_name=display_name,
        skills=cleaned,
        all_skills=all_skills,
        created_at=utcnow(),
        max_active=max_active,
    )
    tx.session.add(row)
    try:
        await tx.session.flush()
    except IntegrityError as exc:
        raise Conflict("name_taken", f"an agent named {name!r} already exists") from exc
    token = await issue_token(tx, kind=PrincipalKind.AGENT, name=name, agent_id=row.id)
    agent = agent_model(row)
    tx.emit(EventType.AGENT_CREATED, {"agent": agent.model_dump(mode="json")})
    return agent, token


async def issue_agent_token(tx: Tx, *, name: str) -> str:
    """A new token for an existing specialist (older tokens keep working)."""
    row = await repo.agent_by_name(tx.session, name)
    if row is None:
        raise NotFound("agent", name)
    return await issue_token(tx, kind=PrincipalKind.AGENT, name=row.name, agent_id=row.id)


async def create_bot(tx: Tx, *, name: str) -> str:
    """Issue a bot token (product AI, simulator, integrations)."""
    return await issue_token(tx, kind=PrincipalKind.BOT, name=name)


async def list_agents(session: AsyncSession) -> list[Agent]:
    return [agent_model(r) for r in await repo.agents(session)]
