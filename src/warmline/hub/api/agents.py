"""Specialists: list them; add one (needs an agent with all skills)."""

from __future__ import annotations

from fastapi import APIRouter

from warmline.domain.models import Agent, AgentCreated, NewAgent
from warmline.hub import service
from warmline.hub.auth import DB, AgentOnly, AgentOrBot
from warmline.hub.errors import Forbidden

router = APIRouter(tags=["agents"])


@router.get("/agents", response_model=list[Agent])
async def list_agents(db: DB, _caller: AgentOrBot) -> list[Agent]:
    """Every specialist, by name."""
    async with db.read() as session:
        return await service.list_agents(session)


@router.post("/agents", status_code=201, response_model=AgentCreated)
async def add_agent(db: DB, agent: AgentOnly, body: NewAgent) -> AgentCreated:
    """Add a specialist and return its token (shown once)."""
    if not agent.all_skills:
        raise Forbidden("forbidden", "only a specialist with all skills may add specialists")
    async with db.write() as tx:
        created, token = await service.create_agent(
            tx, name=body.name, skills=body.skills, display_name=body.display_name, max_active=body.max_active
        )
    return AgentCreated(agent=created, token=token)
