"""Rows to wire models: how the hub's tables are shown over the API (no queries here)."""

from __future__ import annotations

from collections.abc import Sequence

from warmline.domain.models import (
    Agent,
    AgentRef,
    AuthorKind,
    Buyer,
    Conversation,
    Handoff,
    HandoffStatus,
    HandoffSummary,
    Message,
)
from warmline.domain.packet import HandoffPacket, Priority
from warmline.hub.store.tables import AgentRow, ConversationRow, HandoffRow, MessageRow


def agent_model(row: AgentRow) -> Agent:
    return Agent(
        id=row.id,
        name=row.name,
        display_name=row.display_name,
        skills=list(row.skills),
        all_skills=row.all_skills,
        created_at=row.created_at,
        max_active=row.max_active,
    )


def agent_ref(row: AgentRow) -> AgentRef:
    """How an owner is shown: the display name when there is one."""
    return AgentRef(id=row.id, name=row.display_name or row.name)


def message_model(row: MessageRow) -> Message:
    return Message(
        id=row.id,
        conversation_id=row.conversation_id,
        seq=row.seq,
        author_kind=AuthorKind(row.author_kind),
        author_name=row.author_name,
        agent_id=row.agent_id,
        body=row.body,
        internal=row.internal,
        assist_job_id=row.assist_job_id,
        created_at=row.created_at,
    )


def conversation_model(row: ConversationRow, messages: Sequence[MessageRow] = ()) -> Conversation:
    return Conversation(
        id=row.id,
        buyer=Buyer.model_validate(row.buyer),
        subject=row.subject,
        ai_assistant=row.ai_assistant,
        created_at=row.created_at,
        messages=[message_model(m) for m in messages],
    )


def summary_model(row: HandoffRow, owner: AgentRow | None) -> HandoffSummary:
    return HandoffSummary(
        id=row.id,
        conversation_id=row.conversation_id,
        status=HandoffStatus(row.status),
        priority=Priority(row.priority),
        reason=row.reason,
        summary=row.summary,
        product_family=row.product_family,
        required_skills=list(row.required_skills),
        buyer_company=row.buyer_company,
        created_at=row.created_at,
        claimed_by=agent_ref(owner) if owner is not None else None,
        claimed_at=row.claimed_at,
        resolved_at=row.resolved_at,
        first_reply_at=row.first_reply_at,
        requeued_at=row.requeued_at,
    )


def handoff_model(row: HandoffRow, owner: AgentRow | None) -> Handoff:
    return Handoff(**summary_model(row, owner).model_dump(), packet=HandoffPacket.model_validate(row.packet))


def summary_data(summary: HandoffSummary) -> dict:
    """An event's ``{"handoff": ...}`` payload."""
    return {"handoff": HandoffSummary.model_validate(summary.model_dump()).model_dump(mode="json")}
