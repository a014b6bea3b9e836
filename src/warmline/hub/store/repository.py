"""Queries over the hub's tables. No rules here: the services decide, these fetch and write."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, and_, bindparam, case, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from warmline.hub.store.fast import FastStatement
from warmline.hub.store.tables import (
    OPEN_STATUSES,
    AgentRow,
    ConversationRow,
    EventRow,
    HandoffRow,
    IdempotencyRow,
    MessageRow,
    TokenRow,
    core,
)


async def token_by_hash(session: AsyncSession, token_hash: str) -> TokenRow | None:
    return await session.scalar(select(TokenRow).where(TokenRow.token_hash == token_hash))


async def agent(session: AsyncSession, agent_id: str) -> AgentRow | None:
    return await session.get(AgentRow, agent_id)


async def agent_by_name(session: AsyncSession, name: str) -> AgentRow | None:
    return await session.scalar(select(AgentRow).where(AgentRow.name == name))


async def agents(session: AsyncSession) -> Sequence[AgentRow]:
    return (await session.scalars(select(AgentRow).order_by(AgentRow.name))).all()


async def agents_by_id(session: AsyncSession, ids: set[str]) -> dict[str, AgentRow]:
    if not ids:
        return {}
    rows = await session.scalars(select(AgentRow).where(AgentRow.id.in_(ids)))
    return {row.id: row for row in rows}


async def conversation(session: AsyncSession, conversation_id: str) -> ConversationRow | None:
    return await session.get(ConversationRow, conversation_id)


async def messages(
    session: AsyncSession, conversation_id: str, *, include_internal: bool
) -> Sequence[MessageRow]:
    stmt = select(MessageRow).where(MessageRow.conversation_id == conversation_id)
    if not include_internal:
        stmt = stmt.where(MessageRow.internal.is_(False))
    return (await session.scalars(stmt.order_by(MessageRow.seq))).all()


_conversations = ConversationRow.__table__.c
# Built once, and on SQLite run in one thread round trip (see store/fast.py): these run on
# every message POST.
_RESERVE_SEQ = FastStatement(
    update(core(ConversationRow))
    .where(_conversations.id == bindparam("conversation_id"))
    .values(last_seq=_conversations.last_seq + bindparam("count"))
    .returning(_conversations.last_seq, _conversations.buyer, _conversations.ai_assistant)
)
MESSAGE_COLUMNS = (
    "id",
    "conversation_id",
    "seq",
    "author_kind",
    "author_name",
    "agent_id",
    "body",
    "internal",
    "created_at",
)
_INSERT_MESSAGE = FastStatement(insert(core(MessageRow)), column_keys=MESSAGE_COLUMNS)
_INSERT_IDEMPOTENCY = FastStatement(
    insert(core(IdempotencyRow)),
    column_keys=("principal", "key", "request_hash", "response_status", "response_body", "created_at"),
)


async def reserve_seq(session: AsyncSession, conversation_id: str, count: int = 1) -> Any | None:
    """Reserve ``count`` message positions and read what a poster needs, in one statement:
    ``(last_seq, buyer, ai_assistant)`` after the bump, or None when there is no such
    conversation. Row-locks the conversation until the transaction ends."""
    return await _RESERVE_SEQ.first(session, {"conversation_id": conversation_id, "count": count})


async def insert_messages(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Plain INSERTs of message rows (``MESSAGE_COLUMNS``; no unit of work: nothing reads
    them back as objects)."""
    await _INSERT_MESSAGE.write(session, rows)


async def insert_idempotency(session: AsyncSession, values: dict[str, Any]) -> None:
    """Record a keyed request's answer; IntegrityError when (principal, key) is taken."""
    await _INSERT_IDEMPOTENCY.rows(session, values)


async def last_seq(session: AsyncSession, conversation_id: str) -> int:
    """How many messages the conversation has (the highest seq)."""
    value = await session.scalar(
        select(ConversationRow.last_seq).where(ConversationRow.id == conversation_id)
    )
    return int(value or 0)


async def handoff(session: AsyncSession, handoff_id: str) -> HandoffRow | None:
    return await session.get(HandoffRow, handoff_id, populate_existing=True)


async def open_handoff(session: AsyncSession, conversation_id: str) -> HandoffRow | None:
    return await session.scalar(
        select(HandoffRow).where(
            HandoffRow.conversation_id == conversation_id, HandoffRow.status.in_(OPEN_STATUSES)
        )
    )


QUEUE_COLUMNS = (
    HandoffRow.id,
    HandoffRow.conversation_id,
    HandoffRow.status,
    HandoffRow.priority,
    HandoffRow.reason,
    HandoffRow.summary,
    HandoffRow.product_family,
    HandoffRow.required_skills,
    HandoffRow.buyer_company,
    HandoffRow.created_at,
    HandoffRow.claimed_by,
    HandoffRow.claimed_at,
    HandoffRow.resolved_at,
    HandoffRow.first_reply_at,
    HandoffRow.requeued_at,
)


def contains_pattern(term: str) -> str:
    """A LIKE pattern (``escape="\\"``) matching ``term`` anywhere, its wildcards escaped."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def handoffs(session: AsyncSession, *, statuses: Sequence[str], terms: Sequence[str]) -> Sequence[Row]:
    """Queue rows (plain column tuples, no packet) in these statuses whose search text holds
    every term, in queue order. Plain rows: the ORM would triple the cost of a 20k-row queue."""
    stmt = select(*QUEUE_COLUMNS).where(HandoffRow.status.in_(statuses))
    for term in terms:
        stmt = stmt.where(HandoffRow.search_text.like(contains_pattern(term), escape="\\"))
    # a handoff the reply timeout took back comes first within its priority (0010_team)
    requeued_last = case((HandoffRow.requeued_at.is_(None), 1), else_=0)
    stmt = stmt.order_by(
        HandoffRow.priority_rank, requeued_last, HandoffRow.requeued_at, HandoffRow.created_at, HandoffRow.id
    )
    return (await session.execute(stmt)).all()


async def set_handoff_status(
    session: AsyncSession,
    handoff_id: str,
    *,
    where_status: str,
    where_claimed_by: str | None = None,
    values: dict[str, object],
    extra: Sequence[Any] = (),
) -> int:
    """Conditional UPDATE: changes the row only if it is still in the expected state (and
    ``extra`` holds: e.g. the claimer's capacity)."""
    cond = [HandoffRow.id == handoff_id, HandoffRow.status == where_status, *extra]
    if where_claimed_by is not None:
        cond.append(HandoffRow.claimed_by == where_claimed_by)
    result = await session.execute(
        update(HandoffRow).where(and_(*cond)).values(**values).execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


_events = EventRow.__table__.c
_EVENTS_AFTER_STMT = (
    select(_events.id, _events.type, _events.created_at, _events.conversation_id)
    .add_columns(_events.handoff_id, _events.data)
    .where(_events.id > bindparam("after"))
    .order_by(_events.id)
    .limit(bindparam("limit"))
)
_EVENTS_AFTER = FastStatement(_EVENTS_AFTER_STMT)
_EVENTS_AFTER_IN_CONVERSATION = FastStatement(
    _EVENTS_AFTER_STMT.where(_events.conversation_id == bindparam("conversation_id"))
)


async def events_after(
    session: AsyncSession, after: int, *, limit: int, conversation_id: str | None = None
) -> Sequence[Any]:
    """Log entries after ``after`` as plain rows with EventRow's attribute names (read on every
    commit by the event feed: no ORM objects, statement built once)."""
    params: dict[str, object] = {"after": after, "limit": limit}
    if conversation_id is None:
        return await _EVENTS_AFTER.rows(session, params)
    params["conversation_id"] = conversation_id
    return await _EVENTS_AFTER_IN_CONVERSATION.rows(session, params)


async def last_event_id(session: AsyncSession) -> int:
    return int((await session.scalar(select(func.coalesce(func.max(EventRow.id), 0)))) or 0)


async def idempotency(session: AsyncSession, principal: str, key: str) -> IdempotencyRow | None:
    return await session.scalar(
        select(IdempotencyRow).where(IdempotencyRow.principal == principal, IdempotencyRow.key == key)
    )


def search_text(*parts: str | None) -> str:
    """The lower-cased haystack `q` searches in."""
    return " ".join(p.lower() for p in parts if p)
