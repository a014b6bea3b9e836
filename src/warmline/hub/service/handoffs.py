"""Handoffs: creating one (and the product AI's turn that may hand off), the queue, a
handoff's detail, and claim / release / resolve (conditional updates: one winner)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from warmline.domain.models import (
    Agent,
    AuthorKind,
    Buyer,
    EventType,
    Handoff,
    HandoffCreated,
    HandoffDetail,
    HandoffPage,
    HandoffStatus,
    HandoffSummary,
    Message,
    NewHandoff,
)
from warmline.domain.packet import HandoffPacket
from warmline.hub.assignment import buyers_waiting, capacity_refusal, capacity_test
from warmline.hub.errors import Conflict, NotFound, field_error
from warmline.hub.metrics import capture
from warmline.hub.principal import Principal
from warmline.hub.routing import infer_routing
from warmline.hub.service.accounts import check_skills, new_id
from warmline.hub.service.conversations import append_messages, create_conversation
from warmline.hub.service.views import agent_ref, conversation_model, handoff_model, summary_data
from warmline.hub.store import repository as repo
from warmline.hub.store.db import Database, Tx, utcnow
from warmline.hub.store.tables import AgentRow, HandoffRow

SYSTEM_AUTHOR = "Warmline"
AI_AUTHOR = "Warmline AI"
MAX_LIST_LIMIT = 20000


def _search_haystack(packet: HandoffPacket, company: str) -> str:
    return repo.search_text(
        company,
        packet.summary,
        packet.product_family,
        packet.reason.value,
        packet.reason.label,
        packet.sub_reason,
        *[p.sku for p in packet.products],
        *[p.name for p in packet.products],
        *[p.family for p in packet.products],
    )


async def _check_turns(tx: Tx, packet: HandoffPacket, conversation_id: str) -> int:
    """Every ``source_turn``/``goal_turn`` must be a message seq of this conversation (422 if not);
    returns the conversation's last seq."""
    last = await repo.last_seq(tx.session, conversation_id)
    refs: list[tuple[tuple[str | int, ...], int | None]] = [(("goal_turn",), packet.goal_turn)]
    for section in ("products", "constraints", "documents", "confidence_notes", "unresolved", "quantities"):
        for i, item in enumerate(getattr(packet, section)):
            refs.append(((section, i, "source_turn"), item.source_turn))
    for loc, turn in refs:
        if turn is not None and turn > last:
            raise field_error(
                ("body", "packet", *loc),
                f"turn {turn} is not in the conversation (it has {last} messages)",
                value=turn,
            )
    return last


async def _owner(session: AsyncSession, row: HandoffRow) -> AgentRow | None:
    return await repo.agent(session, row.claimed_by) if row.claimed_by else None


async def create_handoff(tx: Tx, *, spec: NewHandoff) -> HandoffCreated:
    """Hand a conversation (existing or carried inline) to the specialists' queue."""
    if (spec.conversation_id is None) == (spec.conversation is None):
        raise field_error(
            ("body", "conversation_id"), "give exactly one of conversation_id or conversation", value=None
        )
    routing = infer_routing(spec.packet)
    skills = (
        check_skills(spec.required_skills, ("body", "required_skills"))
        if spec.required_skills is not None
        else routing.required_skills
    )
    priority = spec.priority or routing.priority
    buyer_token: str | None = None
    if spec.conversation is not None:
        conversation, buyer_token = await create_conversation(tx, spec=spec.conversation)
        conversation_id = conversation.id
        company = conversation.buyer.company
    else:
        assert spec.conversation_id is not None
        conversation_id = spec.conversation_id
        row = await repo.conversation(tx.session, conversation_id)
        if row is None:
            raise NotFound("conversation", conversation_id)
        if await repo.open_handoff(tx.session, conversation_id) is not None:
            raise Conflict("handoff_open", "this conversation already has an open handoff")
        company = Buyer.model_validate(row.buyer).company
    last_seq = await _check_turns(tx, spec.packet, conversation_id)
    company = spec.packet.account.company or company
    now = utcnow()
    queued_since = now
    if spec.escalated_at is not None:
        when = spec.escalated_at if spec.escalated_at.tzinfo else spec.escalated_at.replace(tzinfo=UTC)
        queued_since = min(when, now)  # queue age counts from the escalation, never from the future
    handoff = HandoffRow(
        id=new_id("hnd"),
        conversation_id=conversation_id,
        status=HandoffStatus.QUEUED.value,
        priority=priority.value,
        priority_rank=priority.rank,
        reason=spec.packet.reason.value,
        summary=spec.packet.summary,
        packet=spec.packet.model_dump(mode="json"),
        required_skills=skills,
        product_family=spec.packet.product_family,
        buyer_company=company,
        search_text=_search_haystack(spec.packet, company),
        claimed_by=None,
        claimed_at=None,
        resolved_at=None,
        created_at=queued_since,
        updated_at=now,
    )
    tx.session.add(handoff)
    try:
        await tx.session.flush()
    except IntegrityError as exc:  # a concurrent create won the race for this conversation
        raise Conflict("handoff_open", "this conversation already has an open handoff") from exc
    await capture.handoff_created(tx, handoff, spec.packet, last_seq)
    model = handoff_model(handoff, None)
    tx.emit(
        EventType.HANDOFF_CREATED,
        summary_data(model),
        conversation_id=conversation_id,
        handoff_id=handoff.id,
    )
    if spec.announce:
        await append_messages(
            tx,
            conversation_id,
            [
                (
                    AuthorKind.SYSTEM,
                    SYSTEM_AUTHOR,
                    f"A specialist is joining: {spec.packet.summary}",
                    False,
                    None,
                    None,
                )
            ],
        )
    return HandoffCreated(handoff=model, buyer_token=buyer_token)


def parse_statuses(raw: str | None) -> list[str]:
    """`status=queued,claimed` -> validated list (422 on an unknown status)."""
    if raw is None or not raw.strip():
        return [HandoffStatus.QUEUED.value, HandoffStatus.CLAIMED.value]
    out = []
    for part in raw.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            out.append(HandoffStatus(part).value)
        except ValueError:
            raise field_error(
                ("query", "status"),
                f"unknown status {part!r}; use {', '.join(s.value for s in HandoffStatus)}",
                value=raw,
            ) from None
    return out


async def list_handoffs(
    session: AsyncSession,
    *,
    principal: Principal,
    statuses: Sequence[str],
    skills: Sequence[str] | None = None,
    mine: bool = False,
    q: str | None = None,
    limit: int = 500,
    idle_s: float = 0,
) -> HandoffPage:
    """The queue: filtered, in priority-then-age order, with the event id to stream from."""
    if mine and principal.agent is None:
        raise field_error(("query", "mine"), "mine=true needs an agent token", value=mine)
    # Read the log position first: anything that changes after it arrives as an event.
    last_event_id = await repo.last_event_id(session)
    terms = [t for t in (q or "").lower().split() if t]
    rows = await repo.handoffs(session, statuses=statuses, terms=terms)
    allowed = set(skills) if skills is not None else None
    picked = []
    for row in rows:
        required = row.required_skills
        if allowed is not None and not set(required) <= allowed:
            continue
        if mine and principal.agent is not None and not principal.agent.can_take(required):
            continue
        picked.append(row)
        if len(picked) >= limit:
            break
    waiting = await buyers_waiting(session, [r for r in picked if r.status == HandoffStatus.CLAIMED], idle_s)
    owners = {
        agent_id: agent_ref(agent)
        for agent_id, agent in (
            await repo.agents_by_id(session, {r.claimed_by for r in picked if r.claimed_by})
        ).items()
    }
    items = [
        HandoffSummary(
            id=r.id,
            conversation_id=r.conversation_id,
            status=r.status,
            priority=r.priority,
            reason=r.reason,
            summary=r.summary,
            product_family=r.product_family,
            required_skills=r.required_skills,
            buyer_company=r.buyer_company,
            created_at=r.created_at,
            claimed_by=owners.get(r.claimed_by) if r.claimed_by else None,
            claimed_at=r.claimed_at,
            resolved_at=r.resolved_at,
            first_reply_at=r.first_reply_at,
            requeued_at=r.requeued_at,
            buyer_waiting_since=waiting.get(r.conversation_id),
        )
        for r in picked
    ]
    return HandoffPage(items=items, last_event_id=last_event_id)


async def get_handoff(session: AsyncSession, *, handoff_id: str) -> HandoffDetail:
    """A handoff with its packet and the full conversation (internal notes included)."""
    row = await repo.handoff(session, handoff_id)
    if row is None:
        raise NotFound("handoff", handoff_id)
    conv = await repo.conversation(session, row.conversation_id)
    assert conv is not None
    messages = await repo.messages(session, conv.id, include_internal=True)
    base = handoff_model(row, await _owner(session, row))
    return HandoffDetail(**base.model_dump(), conversation=conversation_model(conv, messages))


async def _refuse(session: AsyncSession, handoff_id: str, agent: Agent, *, action: str) -> HandoffRow:
    """Explain why a conditional update changed nothing (or return the row if it is ours)."""
    row = await repo.handoff(session, handoff_id)
    if row is None:
        raise NotFound("handoff", handoff_id)
    if row.status == HandoffStatus.RESOLVED:
        raise Conflict("resolved", "this handoff is already resolved")
    if row.status == HandoffStatus.CLAIMED and row.claimed_by != agent.id:
        owner = await _owner(session, row)
        code = "already_claimed" if action == "claim" else "claimed_by_other"
        raise Conflict(
            code, "another specialist holds this handoff", owner=agent_ref(owner) if owner else None
        )
    if row.status == HandoffStatus.QUEUED and action != "claim":
        raise Conflict("not_claimed", f"claim this handoff before you {action} it")
    return row


async def _transition(
    tx: Tx,
    *,
    agent: Agent,
    handoff_id: str,
    action: str,
    where_status: HandoffStatus,
    values: dict[str, object],
    event: EventType,
    line: str,
    capacity: int = 0,
) -> Handoff:
    changed = await repo.set_handoff_status(
        tx.session,
        handoff_id,
        where_status=where_status.value,
        where_claimed_by=None if action == "claim" else agent.id,
        values={**values, "updated_at": utcnow()},
        extra=[capacity_test(agent.id, capacity)] if capacity > 0 else (),
    )
    if not changed:
        held = await _refuse(tx.session, handoff_id, agent, action=action)
        if action == "claim" and held.status == HandoffStatus.QUEUED:
            await capacity_refusal(tx.session, agent.id, capacity)  # (the only other reason)
        return handoff_model(held, await _owner(tx.session, held))  # claiming what you hold: 200
    row = await repo.handoff(tx.session, handoff_id)
    assert row is not None
    model = handoff_model(row, await _owner(tx.session, row))
    tx.emit(event, summary_data(model), conversation_id=row.conversation_id, handoff_id=row.id)
    await append_messages(
        tx, row.conversation_id, [(AuthorKind.SYSTEM, SYSTEM_AUTHOR, line, False, None, None)]
    )
    return model


def _display(agent: Agent) -> str:
    return agent.display_name or agent.name


async def claim_handoff(tx: Tx, *, agent: Agent, handoff_id: str, capacity: int = 0) -> Handoff:
    """Take a queued handoff; exactly one concurrent claimer wins (conditional UPDATE), and
    only while the agent holds fewer than ``capacity`` (0: no limit; 409 capacity_reached)."""
    now = utcnow()
    model = await _transition(
        tx,
        agent=agent,
        handoff_id=handoff_id,
        action="claim",
        where_status=HandoffStatus.QUEUED,
        values={
            "status": HandoffStatus.CLAIMED.value,
            "claimed_by": agent.id,
            "claimed_at": now,
            **CLAIM_RESET,
        },
        event=EventType.HANDOFF_CLAIMED,
        line=f"{_display(agent)} joined the conversation",
        capacity=capacity,
    )
    await capture.handoff_claimed(tx, handoff_id, agent.id, model.claimed_at or now)
    return model


# A new claim's reply timeout starts afresh; a requeued handoff leaves the front of the queue.
CLAIM_RESET = {"first_reply_at": None, "requeued_at": None, "requeued_from": None, "reply_warned_at": None}


async def claim(db: Database, *, agent: Agent, handoff_id: str, capacity: int = 0) -> Handoff:
    """Claim with a lock-free fast path: a handoff already held by someone else is refused
    from a plain read, so a stampede of losers never queues behind the writer. (The read is
    a single statement: on PostgreSQL without BEGIN and ROLLBACK, two round trips fewer.)"""
    async with db.read_statement() as session:
        row = await repo.handoff(session, handoff_id)
        if row is None:
            raise NotFound("handoff", handoff_id)
        if row.status != HandoffStatus.QUEUED:
            found = await _refuse(session, handoff_id, agent, action="claim")
            return handoff_model(found, await _owner(session, found))
    async with db.write() as tx:
        return await claim_handoff(tx, agent=agent, handoff_id=handoff_id, capacity=capacity)


async def release_handoff(tx: Tx, *, agent: Agent, handoff_id: str) -> Handoff:
    """Put a held handoff back in the queue."""
    model = await _transition(
        tx,
        agent=agent,
        handoff_id=handoff_id,
        action="release",
        where_status=HandoffStatus.CLAIMED,
        values={"status": HandoffStatus.QUEUED.value, "claimed_by": None, "claimed_at": None},
        event=EventType.HANDOFF_RELEASED,
        line=f"{_display(agent)} stepped away; another specialist will pick this up shortly",
    )
    await capture.handoff_released(tx, handoff_id)
    return model


async def resolve_handoff(
    tx: Tx, *, agent: Agent, handoff_id: str, review: capture.ResolveReview | None = None
) -> Handoff:
    """Close a held handoff (with the specialist's outcome and review, for the metrics)."""
    model = await _transition(
        tx,
        agent=agent,
        handoff_id=handoff_id,
        action="resolve",
        where_status=HandoffStatus.CLAIMED,
        values={"status": HandoffStatus.RESOLVED.value, "resolved_at": utcnow()},
        event=EventType.HANDOFF_RESOLVED,
        line=f"{_display(agent)} marked this conversation as resolved",
    )
    row = await repo.handoff(tx.session, handoff_id)
    assert row is not None
    await capture.handoff_resolved(tx, row, agent.id, review)
    return model


async def post_assistant_turn(
    tx: Tx,
    *,
    conversation_id: str,
    reply: str,
    handoff: NewHandoff | None = None,
    author_name: str = AI_AUTHOR,
) -> tuple[Message, HandoffCreated | None]:
    """The hub's product AI answers a buyer turn, and hands off in the same transaction if it must."""
    [message] = await append_messages(
        tx, conversation_id, [(AuthorKind.AI, author_name, reply, False, None, None)]
    )
    created = await create_handoff(tx, spec=handoff) if handoff is not None else None
    return message, created
