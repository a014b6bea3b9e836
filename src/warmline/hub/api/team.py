"""Team work routes (issue 12): transfer a handoff, the assignment rules and my load, the
colleagues with their load (the Transfer picker), presence and viewing. Notes by any agent
go through ``POST /v1/conversations/{id}/messages`` with ``internal: true``."""

from __future__ import annotations

from fastapi import APIRouter, Request

from warmline.domain.models import Handoff
from warmline.hub.auth import DB, AgentOnly, AgentOrBot
from warmline.hub.presence import PresenceReport, PresenceState
from warmline.hub.team import (
    AssignmentView,
    Colleague,
    TransferRequest,
    assignment_view,
    colleagues,
    transfer,
)

router = APIRouter(tags=["team"])


@router.post(
    "/handoffs/{handoff_id}/transfer",
    response_model=Handoff,
    responses={
        409: {
            "description": "capacity_reached (the colleague is full), claimed_by_other, resolved, not_claimed"
        }
    },
)
async def transfer_handoff(
    request: Request, db: DB, agent: AgentOnly, handoff_id: str, body: TransferRequest
) -> Handoff:
    """Hand a handoff you hold to a colleague (who holds it at once) or back to the queue."""
    async with db.write() as tx:
        return await transfer(
            tx, agent=agent, handoff_id=handoff_id, request=body, config=request.app.state.assignment
        )


@router.get("/assignment", response_model=AssignmentView)
async def get_assignment(request: Request, db: DB, caller: AgentOrBot) -> AssignmentView:
    """The reply timeout, idle flag and capacity in force; for an agent also what they hold."""
    async with db.read() as session:
        return await assignment_view(session, caller.agent, request.app.state.assignment)


@router.get("/team", response_model=list[Colleague])
async def list_team(request: Request, db: DB, _caller: AgentOrBot) -> list[Colleague]:
    """Every specialist with how many handoffs they hold and may hold."""
    async with db.read() as session:
        return await colleagues(session, request.app.state.assignment)


@router.post("/presence", response_model=PresenceState)
async def post_presence(request: Request, agent: AgentOnly, body: PresenceReport) -> PresenceState:
    """Your console's state: ``status`` online/away and the handoff it has open (``viewing``);
    ``presence`` / ``viewing`` events go out for what changed."""
    board = request.app.state.presence
    if "viewing" in body.model_fields_set:
        return await board.update(agent, status=body.status, viewing=body.viewing, viewing_set=True)
    return await board.update(agent, status=body.status)


@router.get("/presence", response_model=list[PresenceState])
async def get_presence(request: Request, _caller: AgentOrBot) -> list[PresenceState]:
    """Who this hub instance knows to be online or away, and what they view."""
    return [s for s in request.app.state.presence.snapshot() if s.status != "offline"]
