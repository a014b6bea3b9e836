"""Team work between specialists (issue 12): transfer of a held handoff (to a colleague or
back to the queue with other skills), the assignment view (my load and the team rules),
and the colleagues list with load for the Transfer picker.

Transfers are conditional UPDATEs like claims: the holder must still hold the handoff, and
a colleague receiving it must be under their capacity in the same statement; a refusal
changes nothing. The packet and the transcript stay on the handoff, so they travel with it.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from warmline.domain.models import (
    MAX_MESSAGE_CHARS,
    Agent,
    AuthorKind,
    EventType,
    Handoff,
    HandoffStatus,
)
from warmline.hub.assignment import (
    AssignmentConfig,
    capacity_for,
    capacity_refusal,
    capacity_test,
    held_count,
)
from warmline.hub.errors import NotFound, field_error
from warmline.hub.metrics import capture
from warmline.hub.service.accounts import check_skills
from warmline.hub.service.conversations import append_messages
from warmline.hub.service.handoffs import CLAIM_RESET, SYSTEM_AUTHOR, _refuse
from warmline.hub.service.views import agent_model, handoff_model, summary_data
from warmline.hub.store import repository as repo
from warmline.hub.store.db import Tx, utcnow
from warmline.hub.store.tables import AgentRow, HandoffRow, core


class TransferRequest(BaseModel):
    """``POST /v1/handoffs/{id}/transfer``: exactly one of ``to_agent`` or ``to_skills``."""

    model_config = ConfigDict(extra="forbid")

    to_agent: str | None = Field(default=None, max_length=40, description="a colleague's agent id")
    to_skills: list[str] | None = Field(
        default=None, min_length=1, max_length=20, description="back to the queue needing these skills"
    )
    note: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_MESSAGE_CHARS,
        description="internal note that travels with it",
    )


class AssignmentView(BaseModel):
    """``GET /v1/assignment``: the team rules and, for an agent, what they hold."""

    reply_timeout_s: float = Field(description="0: off")
    idle_timeout_s: float = Field(description="0: off")
    max_active_per_agent: int = Field(description="workspace default; 0: no limit")
    held: int | None = Field(default=None, description="claimed handoffs the caller holds")
    limit: int | None = Field(default=None, description="the caller's capacity; 0: no limit")


class Colleague(BaseModel):
    """An agent as the Transfer picker shows them."""

    agent: Agent
    held: int
    limit: int = Field(description="0: no limit")


async def assignment_view(
    session: AsyncSession, agent: Agent | None, config: AssignmentConfig
) -> AssignmentView:
    view = AssignmentView(
        reply_timeout_s=config.reply_timeout_s,
        idle_timeout_s=config.idle_timeout_s,
        max_active_per_agent=config.max_active_per_agent,
    )
    if agent is not None:
        view.held = await held_count(session, agent.id)
        view.limit = capacity_for(agent, config)
    return view


async def colleagues(session: AsyncSession, config: AssignmentConfig) -> list[Colleague]:
    """Every agent with how many handoffs they hold and may hold (one grouped count)."""
    counts = dict(
        (
            await session.execute(
                select(HandoffRow.claimed_by, func.count())
                .where(HandoffRow.status == HandoffStatus.CLAIMED.value, HandoffRow.claimed_by.is_not(None))
                .group_by(HandoffRow.claimed_by)
            )
        ).all()
    )
    out = []
    for row in await repo.agents(session):
        agent = agent_model(row)
        out.append(Colleague(agent=agent, held=int(counts.get(row.id, 0)), limit=capacity_for(agent, config)))
    return out


def _speciality(target: AgentRow, required: Sequence[str]) -> str:
    """The skill to name in "Marco, our pumps specialist": one the handoff needs that they have."""
    for skill in required:
        if target.all_skills or skill in target.skills:
            return skill
    return target.skills[0] if target.skills else ""


async def transfer(
    tx: Tx, *, agent: Agent, handoff_id: str, request: TransferRequest, config: AssignmentConfig
) -> Handoff:
    """Hand a held handoff to a colleague (claimed by them at once, if under capacity) or
    back to the queue with other required skills; 409 capacity_reached changes nothing."""
    if (request.to_agent is None) == (request.to_skills is None):
        raise field_error(("body", "to_agent"), "give exactly one of to_agent or to_skills", value=None)
    now = utcnow()
    t = core(HandoffRow)
    holder_name = agent.display_name or agent.name
    target: AgentRow | None = None
    skills: list[str] | None = None
    where = [t.c.id == handoff_id, t.c.status == HandoffStatus.CLAIMED.value, t.c.claimed_by == agent.id]
    if request.to_agent is not None:
        if request.to_agent == agent.id:
            raise field_error(("body", "to_agent"), "you already hold this handoff", value=request.to_agent)
        target = await repo.agent(tx.session, request.to_agent)
        if target is None:
            raise field_error(("body", "to_agent"), "no such agent", value=request.to_agent)
        capacity = capacity_for(agent_model(target), config)
        if capacity > 0:
            where.append(capacity_test(target.id, capacity))
        values: dict[str, object] = {"claimed_by": target.id, "claimed_at": now, **CLAIM_RESET}
    else:
        assert request.to_skills is not None
        skills = check_skills(request.to_skills, ("body", "to_skills"))
        values = {
            "status": HandoffStatus.QUEUED.value,
            "claimed_by": None,
            "claimed_at": None,
            "required_skills": skills,
            **CLAIM_RESET,
        }
    result = await tx.session.execute(update(t).where(*where).values(**values, updated_at=now))
    if not result.rowcount:  # type: ignore[attr-defined]
        await _refuse(tx.session, handoff_id, agent, action="transfer")  # not yours, resolved, ...
        assert target is not None  # (it is yours: only the colleague's capacity can refuse)
        name = target.display_name or target.name
        await capacity_refusal(tx.session, target.id, capacity_for(agent_model(target), config), who=name)
        raise NotFound("handoff", handoff_id)  # pragma: no cover - a row that vanished meanwhile
    row = await repo.handoff(tx.session, handoff_id)
    assert row is not None
    model = handoff_model(row, target)
    data = summary_data(model)
    data.update(
        from_agent_id=agent.id,
        from_agent_name=holder_name,
        to_agent_id=target.id if target else None,
        to_agent_name=(target.display_name or target.name) if target else None,
        to_skills=skills,
        note=request.note,
    )
    tx.emit(EventType.HANDOFF_TRANSFERRED, data, conversation_id=row.conversation_id, handoff_id=row.id)
    await capture.handoff_transferred(tx, row.id, target.id if target else None)  # for the metrics
    if target is not None:
        skill = _speciality(target, row.required_skills)
        role = f"our {skill} specialist" if skill else "our specialist"
        line = f"{target.display_name or target.name}, {role}, is taking over"
    else:
        line = (
            f"{holder_name} is passing you to a {', '.join(skills or [])} specialist, who will join shortly"
        )
    items: list[tuple[AuthorKind, str, str, bool, str | None, None]] = [
        (AuthorKind.SYSTEM, SYSTEM_AUTHOR, line, False, None, None)
    ]
    if request.note:
        items.insert(
            0, (AuthorKind.AGENT, holder_name, f"Transfer note: {request.note}", True, agent.id, None)
        )
    await append_messages(tx, row.conversation_id, items)
    return model
