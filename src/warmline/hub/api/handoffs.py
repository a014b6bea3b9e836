"""Handoffs: create (bots), the queue, detail, claim / release / resolve (agents)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from warmline.domain.models import Handoff, HandoffCreated, HandoffDetail, HandoffPage, NewHandoff
from warmline.hub import service
from warmline.hub.api.conversations import IdempotencyKey
from warmline.hub.assignment import capacity_for
from warmline.hub.auth import DB, AgentOnly, AgentOrBot, BotOnly
from warmline.hub.idempotency import request_hash, run_idempotent
from warmline.hub.metrics.capture import ResolveReview
from warmline.hub.store.db import Tx

router = APIRouter(tags=["handoffs"])


@router.post("/handoffs", status_code=201, response_model=HandoffCreated)
async def create_handoff(
    request: Request, db: DB, bot: BotOnly, body: NewHandoff, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """Hand a conversation to the specialists, with its packet; skills/priority inferred if left out."""

    async def action(tx: Tx) -> HandoffCreated:
        return await service.create_handoff(tx, spec=body)

    return await run_idempotent(
        db,
        principal=bot,
        key=idempotency_key,
        fingerprint=request_hash("POST", request.url.path, body),
        status_code=201,
        action=action,
    )


@router.get("/handoffs", response_model=HandoffPage)
async def list_handoffs(
    request: Request,
    db: DB,
    caller: AgentOrBot,
    status: Annotated[str | None, Query(description="comma list; default queued,claimed")] = None,
    skills: Annotated[str | None, Query(description="comma list: required skills must be a subset")] = None,
    mine: Annotated[bool, Query(description="only what this agent has the skills for")] = False,
    q: Annotated[str | None, Query(max_length=200, description="words to find")] = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_LIST_LIMIT)] = 500,
) -> Response:
    """The queue, by priority then age, plus the event id to stream from."""
    statuses = service.parse_statuses(status)
    skill_list = None if skills is None else [s.strip() for s in skills.split(",") if s.strip()]
    async with db.read() as session:
        page = await service.list_handoffs(
            session,
            principal=caller,
            statuses=statuses,
            skills=skill_list,
            mine=mine,
            q=q,
            limit=limit,
            idle_s=request.app.state.assignment.idle_timeout_s,
        )
    # serialised once by pydantic (the model is already valid): FastAPI would validate it again
    return Response(page.model_dump_json(), media_type="application/json")


@router.get("/handoffs/{handoff_id}", response_model=HandoffDetail)
async def get_handoff(db: DB, _caller: AgentOrBot, handoff_id: str) -> HandoffDetail:
    """A handoff with its packet and the whole conversation."""
    async with db.read() as session:
        return await service.get_handoff(session, handoff_id=handoff_id)


@router.post("/handoffs/{handoff_id}/claim", response_model=Handoff)
async def claim(request: Request, db: DB, agent: AgentOnly, handoff_id: str) -> Handoff:
    """Take a queued handoff; 409 already_claimed (with the owner) if someone was faster, 409
    capacity_reached (with held and limit) when you already hold your maximum."""
    capacity = capacity_for(agent, request.app.state.assignment)
    return await service.claim(db, agent=agent, handoff_id=handoff_id, capacity=capacity)


@router.post("/handoffs/{handoff_id}/release", response_model=Handoff)
async def release(db: DB, agent: AgentOnly, handoff_id: str) -> Handoff:
    """Put a handoff you hold back in the queue."""
    async with db.write() as tx:
        return await service.release_handoff(tx, agent=agent, handoff_id=handoff_id)


@router.post("/handoffs/{handoff_id}/resolve", response_model=Handoff)
async def resolve(db: DB, agent: AgentOnly, handoff_id: str, body: ResolveReview | None = None) -> Handoff:
    """Close a handoff you hold; the optional body is the outcome and review (docs/metrics.md)."""
    async with db.write() as tx:
        return await service.resolve_handoff(tx, agent=agent, handoff_id=handoff_id, review=body)
