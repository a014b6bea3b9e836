"""Capture: the facts row of each handoff, written in the same transaction as the event that
changes it (created, claimed, released, the first specialist reply, resolved, rated), so the
metrics never read the event log (which a retention sweep may trim).

Called by ``hub.service.handoffs`` / ``conversations`` and the rating route; every function
takes the writer's ``Tx``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete, exists, insert, select, update

from warmline.domain.packet import HandoffPacket, ReasonCategory
from warmline.hub.errors import field_error
from warmline.hub.metrics.repeats import find_repeats
from warmline.hub.metrics.tables import HandoffFactRow, HandoffRepeatRow
from warmline.hub.store import repository as repo
from warmline.hub.store.db import Tx, utcnow
from warmline.hub.store.tables import AssistJobRow, HandoffRow, MessageRow

HIGH_INTENT_SUB_REASONS = frozenset({"quote", "quote_request", "quote_status", "lead_time"})


class Outcome(StrEnum):
    ANSWERED = "answered"
    QUOTE_SENT = "quote_sent"
    ORDER_PLACED = "order_placed"
    LOST = "lost"
    NO_RESPONSE = "no_response"


FAILED_OUTCOMES = (Outcome.LOST.value, Outcome.NO_RESPONSE.value)


class ResolveReview(BaseModel):
    """The optional body of ``POST /v1/handoffs/{id}/resolve``: the outcome and the review."""

    model_config = ConfigDict(extra="forbid")

    outcome: Outcome | None = None
    unnecessary: bool | None = Field(default=None, description="the AI could have handled it alone")
    late: bool | None = Field(default=None, description="it should have reached a person earlier")
    late_turn: int | None = Field(
        default=None, ge=1, description="the message seq it should have escalated at (implies late)"
    )
    buyer_repeated: bool | None = Field(default=None, description="the buyer had to repeat information")

    def given(self) -> bool:
        return any(v is not None for v in self.model_dump().values())


def high_intent(packet: HandoffPacket) -> bool:
    """Purchase intent (main or secondary reason), or a quote / lead-time sub-reason."""
    return (
        packet.reason is ReasonCategory.PURCHASE_INTENT
        or ReasonCategory.PURCHASE_INTENT in packet.secondary_reasons
        or packet.sub_reason in HIGH_INTENT_SUB_REASONS
    )


def _seconds(start: datetime, end: datetime) -> int:
    return max(0, round((end - start).total_seconds()))


async def handoff_created(tx: Tx, row: HandoffRow, packet: HandoffPacket, escalated_seq: int) -> None:
    """A new handoff: its facts row (escalation time, reason, priority, skills, intent)."""
    await tx.session.execute(
        insert(HandoffFactRow).values(
            handoff_id=row.id,
            conversation_id=row.conversation_id,
            escalated_at=row.created_at,
            escalated_day=row.created_at.date().isoformat(),
            escalated_seq=escalated_seq,
            reason=row.reason,
            priority=row.priority,
            skill=(row.required_skills or [""])[0],
            skills=list(row.required_skills),
            high_intent=high_intent(packet),
            requeues=0,
            transfers=0,
            repeat_detected=False,
            reviewed=False,
        )
    )


def _facts(handoff_id: str):  # type: ignore[no-untyped-def]
    return update(HandoffFactRow).where(HandoffFactRow.handoff_id == handoff_id)


async def handoff_claimed(tx: Tx, handoff_id: str, agent_id: str, when: datetime) -> None:
    """The first claim starts nothing but is recorded; the latest holder is the handoff's agent."""
    facts = HandoffFactRow
    await tx.session.execute(_facts(handoff_id).where(facts.claimed_at.is_(None)).values(claimed_at=when))
    await tx.session.execute(_facts(handoff_id).values(agent_id=agent_id))


async def handoff_released(tx: Tx, handoff_id: str) -> None:
    """Put back in the queue: one requeue."""
    await tx.session.execute(_facts(handoff_id).values(requeues=HandoffFactRow.requeues + 1))


async def handoff_transferred(tx: Tx, handoff_id: str, to_agent_id: str | None) -> None:
    """Passed to a colleague (who holds it now) or to a skill group (back in the queue)."""
    values: dict[str, object] = {"transfers": HandoffFactRow.transfers + 1}
    if to_agent_id is not None:
        values["agent_id"] = to_agent_id
    await tx.session.execute(_facts(handoff_id).values(**values))


def _assisted(handoff_id: str):  # type: ignore[no-untyped-def]
    return exists(select(AssistJobRow.id).where(AssistJobRow.handoff_id == handoff_id))


async def agent_replied(tx: Tx, handoff_id: str, when: datetime) -> None:
    """A specialist's message the buyer sees: the first one stops the response clock, and
    whether an assist job exists by then makes the handoff AI-assisted."""
    escalated_at = await tx.session.scalar(
        select(HandoffFactRow.escalated_at).where(
            HandoffFactRow.handoff_id == handoff_id, HandoffFactRow.first_reply_at.is_(None)
        )
    )
    if escalated_at is None:
        return  # replied before, or a handoff older than the metrics
    await tx.session.execute(
        _facts(handoff_id).values(
            first_reply_at=when,
            first_reply_seconds=_seconds(escalated_at, when),
            ai_assisted=_assisted(handoff_id),
        )
    )


async def handoff_resolved(tx: Tx, row: HandoffRow, agent_id: str, review: ResolveReview | None) -> None:
    """Resolved: the resolution clock stops, the review is stored, and the buyer's messages
    since the escalation are checked for repeats of the packet."""
    review = review or ResolveReview()
    facts = (
        await tx.session.execute(
            select(
                HandoffFactRow.escalated_at, HandoffFactRow.escalated_seq, HandoffFactRow.first_reply_at
            ).where(HandoffFactRow.handoff_id == row.id)
        )
    ).first()
    last_seq = await repo.last_seq(tx.session, row.conversation_id)
    if review.late_turn is not None:
        if review.late is False:
            raise field_error(
                ("body", "late_turn"), "a late_turn needs late true (or left out)", value=review.late_turn
            )
        if review.late_turn > (last_seq or 0):
            raise field_error(
                ("body", "late_turn"),
                f"turn {review.late_turn} is not in the conversation (it has {last_seq or 0} messages)",
                value=review.late_turn,
            )
    if facts is None:
        return  # a handoff opened before the metrics existed
    escalated_at, escalated_seq, first_reply_at = facts
    now = row.resolved_at or utcnow()
    packet = HandoffPacket.model_validate(row.packet)
    buyer_messages = (
        await tx.session.execute(
            select(MessageRow.seq, MessageRow.body)
            .where(
                MessageRow.conversation_id == row.conversation_id,
                MessageRow.seq > escalated_seq,
                MessageRow.author_kind == "buyer",
            )
            .order_by(MessageRow.seq)
        )
    ).all()
    repeats = find_repeats(packet, [(int(s), str(b)) for s, b in buyer_messages])
    await tx.session.execute(delete(HandoffRepeatRow).where(HandoffRepeatRow.handoff_id == row.id))
    if repeats:
        await tx.session.execute(
            insert(HandoffRepeatRow),
            [
                {
                    "handoff_id": row.id,
                    "message_seq": r.seq,
                    "kind": r.kind,
                    "packet_item": r.packet_item[:300],
                    "found": r.found[:300],
                    "detail": r.as_dict(),
                }
                for r in repeats
            ],
        )
    values: dict[str, object] = {
        "resolved_at": now,
        "resolution_seconds": _seconds(escalated_at, now),
        "agent_id": agent_id,
        "repeat_detected": bool(repeats),
        "outcome": review.outcome.value if review.outcome else None,
        "unnecessary": review.unnecessary,
        "late": True if review.late_turn is not None else review.late,
        "late_turn": review.late_turn,
        "buyer_repeated": review.buyer_repeated,
        "reviewed": review.given(),
    }
    if first_reply_at is None:
        values["ai_assisted"] = _assisted(row.id)
    await tx.session.execute(_facts(row.id).values(**values))


async def repeats_of(tx_or_session, handoff_id: str) -> list[dict[str, object]]:  # type: ignore[no-untyped-def]
    """The stored repeats of a handoff (which message repeated what), in message order."""
    rows = await tx_or_session.execute(
        select(
            HandoffRepeatRow.message_seq,
            HandoffRepeatRow.kind,
            HandoffRepeatRow.packet_item,
            HandoffRepeatRow.found,
        )
        .where(HandoffRepeatRow.handoff_id == handoff_id)
        .order_by(HandoffRepeatRow.message_seq, HandoffRepeatRow.id)
    )
    return [{"seq": s, "kind": k, "packet_item": p, "found": f} for s, k, p, f in rows]
