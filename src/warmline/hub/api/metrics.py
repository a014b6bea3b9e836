"""Handoff-quality routes (issue 13).

``GET /v1/metrics?from=&to=&skill=&agent=&reason=`` (agents and bots): the seven measures of
``hub.metrics.compute`` for escalations in [from, to). ``POST /v1/conversations/{id}/rating``
(the conversation's buyer token): one 1-5 rating with an optional comment, for the
conversation's latest handoff once it is resolved. ``GET /v1/handoffs/{id}/review``
(agents): a handoff's facts, review and the buyer messages that repeated its packet.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select, update

from warmline.domain.models import PrincipalKind
from warmline.hub.auth import DB, AgentOnly, AgentOrBot, Caller
from warmline.hub.errors import Conflict, Forbidden, NotFound, field_error
from warmline.hub.metrics import capture
from warmline.hub.metrics.compute import Window, compute, parse_when
from warmline.hub.metrics.tables import HandoffFactRow
from warmline.hub.store.db import utcnow
from warmline.hub.store.tables import HandoffRow

router = APIRouter(tags=["metrics"])


class NewRating(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rating: int = Field(ge=1, le=5, description="1 (poor) to 5 (excellent)")
    comment: str = Field(default="", max_length=2000)


class Rating(BaseModel):
    handoff_id: str
    rating: int
    comment: str


def _when(name: str, raw: str | None, *, end: bool) -> Any:
    if raw is None or not raw.strip():
        return None
    try:
        return parse_when(raw, end=end)
    except (ValueError, OverflowError):
        raise field_error(("query", name), "not a date (YYYY-MM-DD) or an ISO 8601 time", value=raw) from None


@router.get(
    "/metrics",
    responses={200: {"description": "the seven measures, breakdowns and a daily series"}},
)
async def metrics(
    db: DB,
    _caller: AgentOrBot,
    from_: Annotated[
        str | None, Query(alias="from", max_length=40, description="YYYY-MM-DD or ISO time")
    ] = None,
    to: Annotated[str | None, Query(max_length=40, description="exclusive; a date includes that day")] = None,
    skill: Annotated[str | None, Query(max_length=40)] = None,
    agent: Annotated[str | None, Query(max_length=40, description="agent id")] = None,
    reason: Annotated[str | None, Query(max_length=40)] = None,
) -> dict[str, Any]:
    """Handoff quality for escalations in [from, to) (every one when left out)."""
    window = Window(
        start=_when("from", from_, end=False),
        end=_when("to", to, end=True),
        skill=skill or None,
        agent=agent or None,
        reason=reason or None,
    )
    if window.start and window.end and window.end <= window.start:
        raise field_error(("query", "to"), "must be after from", value=to)
    async with db.read() as session:
        return await compute(session, window)


@router.post("/conversations/{conversation_id}/rating", status_code=201, response_model=Rating)
async def rate(db: DB, caller: Caller, conversation_id: str, body: NewRating) -> Rating:
    """The buyer rates the help they got, once the latest handoff is resolved (409 before, or twice)."""
    if caller.kind is not PrincipalKind.BUYER:
        raise Forbidden("forbidden", "only the conversation's buyer rates it")
    if caller.conversation_id != conversation_id:
        raise Forbidden("forbidden", "this token belongs to another conversation")
    async with db.write() as tx:
        latest = (
            await tx.session.execute(
                select(HandoffRow.id, HandoffRow.status)
                .where(HandoffRow.conversation_id == conversation_id)
                .order_by(HandoffRow.created_at.desc(), HandoffRow.id.desc())
                .limit(1)
            )
        ).first()
        if latest is None:
            raise NotFound("handoff", conversation_id)
        handoff_id, status = latest
        if status != "resolved":
            raise Conflict("not_resolved", "rate the conversation once a specialist has resolved it")
        changed = await tx.session.execute(
            update(HandoffFactRow)
            .where(HandoffFactRow.handoff_id == handoff_id, HandoffFactRow.rating.is_(None))
            .values(rating=body.rating, rating_comment=body.comment, rated_at=utcnow())
        )
        if not changed.rowcount:  # type: ignore[attr-defined]
            raise Conflict("already_rated", "this conversation has been rated already")
    return Rating(handoff_id=handoff_id, rating=body.rating, comment=body.comment)


@router.get("/handoffs/{handoff_id}/review")
async def review(db: DB, _agent: AgentOnly, handoff_id: str) -> dict[str, Any]:
    """A handoff's measured facts, its review and the messages that repeated its packet."""
    async with db.read() as session:
        row = await session.get(HandoffFactRow, handoff_id)
        if row is None:
            raise NotFound("handoff", handoff_id)
        facts = {c.name: getattr(row, c.key) for c in HandoffFactRow.__table__.columns}  # type: ignore[attr-defined]
        for key, value in list(facts.items()):
            if hasattr(value, "isoformat"):
                facts[key] = value.isoformat()
        return {**facts, "repeats": await capture.repeats_of(session, handoff_id)}
