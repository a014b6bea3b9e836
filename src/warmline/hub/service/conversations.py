"""Conversations and their messages: opening one (with its buyer token), reading it, and
posting messages at the end of the transcript (positions reserved in the same transaction)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy.ext.asyncio import AsyncSession

from warmline.domain.models import (
    AuthorKind,
    Conversation,
    EventType,
    HandoffStatus,
    Message,
    NewConversation,
    NewMessage,
    PrincipalKind,
)
from warmline.hub.assignment import mark_first_reply, notify_mentions
from warmline.hub.errors import Conflict, Forbidden, NotFound, field_error
from warmline.hub.metrics import capture
from warmline.hub.principal import Principal
from warmline.hub.service.accounts import issue_token, new_id
from warmline.hub.service.views import agent_ref, conversation_model
from warmline.hub.store import repository as repo
from warmline.hub.store.db import Tx, utcnow
from warmline.hub.store.tables import ConversationRow, MessageRow


async def append_messages(
    tx: Tx,
    conversation_id: str,
    items: Sequence[tuple[AuthorKind, str, str, bool, str | None, datetime | None]],
) -> list[Message]:
    """Insert messages at the end of the transcript and queue their events."""
    if not items:
        return []
    reserved = await repo.reserve_seq(tx.session, conversation_id, len(items))
    if reserved is None:
        raise NotFound("conversation", conversation_id)
    tx.remember_conversation(conversation_id, reserved)
    return await insert_messages(tx, conversation_id, int(reserved.last_seq) - len(items) + 1, items)


async def insert_messages(
    tx: Tx,
    conversation_id: str,
    first: int,
    items: Sequence[tuple[AuthorKind, str, str, bool, str | None, datetime | None]],
) -> list[Message]:
    """Insert messages at reserved positions ``first``, ``first + 1``, ... and queue their events."""
    out: list[Message] = []
    rows: list[dict[str, object]] = []
    for offset, (kind, author_name, body, internal, agent_id, created_at) in enumerate(items):
        when = created_at or utcnow()
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        message = Message(
            id=new_id("msg"),
            conversation_id=conversation_id,
            seq=first + offset,
            author_kind=kind,
            author_name=author_name,
            agent_id=agent_id,
            body=body,
            internal=internal,
            created_at=when,
        )
        rows.append(
            {
                "id": message.id,
                "conversation_id": conversation_id,
                "seq": message.seq,
                "author_kind": kind.value,
                "author_name": author_name,
                "agent_id": agent_id,
                "body": body,
                "internal": internal,
                "created_at": when,
            }
        )
        out.append(message)
        tx.emit(
            EventType.MESSAGE_CREATED,
            {"message": message.model_dump(mode="json")},
            conversation_id=conversation_id,
        )
    # on PostgreSQL sent with the commit (nothing reads them back in the transaction)
    if not await tx.insert_at_commit(MessageRow.__tablename__, repo.MESSAGE_COLUMNS, rows):
        await repo.insert_messages(tx.session, rows)
    return out


async def create_conversation(tx: Tx, *, spec: NewConversation) -> tuple[Conversation, str]:
    """Open a conversation (with any transcript so far) and issue its buyer token."""
    row = ConversationRow(
        id=new_id("cnv"),
        subject=spec.subject,
        buyer=spec.buyer.model_dump(mode="json"),
        last_seq=0,
        created_at=utcnow(),
        ai_assistant=spec.ai_assistant,
    )
    tx.session.add(row)
    await tx.session.flush()
    token = await issue_token(
        tx, kind=PrincipalKind.BUYER, name=spec.buyer.name or "buyer", conversation_id=row.id
    )
    tx.emit(
        EventType.CONVERSATION_CREATED,
        {"conversation": conversation_model(row).model_dump(mode="json")},
        conversation_id=row.id,
    )
    messages = await append_messages(
        tx,
        row.id,
        [(m.author_kind, m.author_name, m.body, False, None, m.created_at) for m in spec.messages],
    )
    conversation = conversation_model(row)
    conversation.messages = messages
    return conversation, token


def _check_reader(principal: Principal, conversation_id: str) -> None:
    if principal.kind is PrincipalKind.BUYER and principal.conversation_id != conversation_id:
        raise Forbidden("forbidden", "this token belongs to another conversation")


async def get_conversation(
    session: AsyncSession, *, principal: Principal, conversation_id: str
) -> Conversation:
    """A conversation with its transcript; buyers see only their own, without internal notes."""
    _check_reader(principal, conversation_id)
    row = await repo.conversation(session, conversation_id)
    if row is None:
        raise NotFound("conversation", conversation_id)
    include_internal = principal.kind is not PrincipalKind.BUYER
    return conversation_model(row, await repo.messages(session, row.id, include_internal=include_internal))


class PostedMessage(NamedTuple):
    message: Message
    ai_assistant: bool  # the conversation's product AI answers buyer turns


async def post_message(tx: Tx, *, principal: Principal, conversation_id: str, spec: NewMessage) -> Message:
    """Add a message: agents only where they hold the open handoff, buyers only in their own."""
    return (await add_message(tx, principal=principal, conversation_id=conversation_id, spec=spec)).message


async def add_message(
    tx: Tx, *, principal: Principal, conversation_id: str, spec: NewMessage
) -> PostedMessage:
    """``post_message``, also telling whether the conversation is AI-assisted.

    The position is reserved first, in the statement that proves the conversation exists
    and reads its buyer and AI flag; a refusal below rolls the reservation back. On
    PostgreSQL, buyers' and bots' posts to a conversation this hub has seen take the next
    position from the hub's cache instead, checked in the commit script (``Tx.cached_conversation``;
    a stale one raises StaleSeq at commit and the caller posts again uncached)."""
    _check_reader(principal, conversation_id)
    conversation: Any = None
    if principal.kind is not PrincipalKind.AGENT:  # (agents' posts read the handoff first)
        conversation = tx.cached_conversation(conversation_id)
    if conversation is None:
        conversation = await repo.reserve_seq(tx.session, conversation_id)
    if conversation is None:
        raise NotFound("conversation", conversation_id)
    tx.remember_conversation(conversation_id, conversation)
    agent_id: str | None = None
    if principal.kind is PrincipalKind.AGENT:
        assert principal.agent is not None
        if spec.author_kind not in (None, AuthorKind.AGENT):
            raise field_error(("body", "author_kind"), "agents post as 'agent'", value=spec.author_kind)
        open_row = None if spec.internal else await repo.open_handoff(tx.session, conversation_id)
        if spec.internal:
            pass  # a colleague note: any agent, holder or not; buyers never see it (issue 12)
        elif open_row is None or open_row.status != HandoffStatus.CLAIMED or open_row.claimed_by is None:
            raise Conflict("not_claimed", "claim this conversation's handoff before replying")
        elif open_row.claimed_by != principal.agent.id:
            owner = await repo.agent(tx.session, open_row.claimed_by)
            raise Conflict(
                "claimed_by_other",
                "another specialist holds this conversation",
                owner=agent_ref(owner) if owner else None,
            )
        elif open_row.first_reply_at is None:
            await mark_first_reply(tx, open_row.id)  # the reply timeout stops (hub.assignment)
        kind = AuthorKind.AGENT
        author = principal.agent.display_name or principal.agent.name
        agent_id = principal.agent.id
    elif principal.kind is PrincipalKind.BUYER:
        if spec.author_kind not in (None, AuthorKind.BUYER):
            raise field_error(("body", "author_kind"), "buyers post as 'buyer'", value=spec.author_kind)
        if spec.internal:
            raise field_error(("body", "internal"), "buyers cannot post internal notes", value=True)
        kind = AuthorKind.BUYER
        author = (conversation.buyer or {}).get("name") or ""
    else:
        kind = spec.author_kind or AuthorKind.AI
        if kind is AuthorKind.AGENT:
            raise field_error(
                ("body", "author_kind"), "bots post as 'ai', 'system' or 'buyer'", value=spec.author_kind
            )
        author = spec.author_name if spec.author_name is not None else principal.name
    if spec.author_name is not None and principal.kind is PrincipalKind.BOT:
        author = spec.author_name
    item = (kind, author, spec.body, spec.internal, agent_id, None)
    [message] = await insert_messages(tx, conversation_id, int(conversation.last_seq), [item])
    if agent_id is not None and "@" in spec.body:
        await notify_mentions(tx, message)  # @name of a colleague: agent.mentioned to them
    if agent_id is not None and not spec.internal:
        await capture.agent_replied(tx, open_row.id, message.created_at)  # the first stops the clock
    return PostedMessage(message, bool(conversation.ai_assistant))
