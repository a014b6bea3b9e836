"""The hub's rules: conversations, messages, handoffs, agents and tokens.

Plain async functions with keyword arguments, usable in-process (CLI, demo seeding,
tests) as well as from the HTTP endpoints. Writers take a ``Tx`` (``Database.write()``),
readers an ``AsyncSession`` (``Database.read()``); every state change queues its events
on the same transaction.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from warmline.domain.models import (
    Agent,
    AgentRef,
    AuthorKind,
    Buyer,
    Conversation,
    EventType,
    Handoff,
    HandoffCreated,
    HandoffDetail,
    HandoffPage,
    HandoffStatus,
    HandoffSummary,
    Message,
    NewConversation,
    NewHandoff,
    NewMessage,
    PrincipalKind,
)
from warmline.domain.packet import HandoffPacket, Priority
from warmline.domain.skills import default_taxonomy
from warmline.hub.errors import Conflict, Forbidden, NotFound, field_error
from warmline.hub.principal import Principal
from warmline.hub.routing import infer_routing
from warmline.hub.store import repository as repo
from warmline.hub.store.db import Database, Tx, utcnow
from warmline.hub.store.tables import (
    AgentRow,
    ConversationRow,
    HandoffRow,
    MessageRow,
    TokenRow,
)

ALL_SKILLS = "all"
SYSTEM_AUTHOR = "Warmline"
AI_AUTHOR = "Warmline AI"
MAX_LIST_LIMIT = 20000


# --- ids and tokens -------------------------------------------------------------------


def new_id(prefix: str) -> str:
    """A unique, prefixed id (prefix tells a human what it is)."""
    return f"{prefix}_{uuid.uuid4().hex}"


def hash_token(token: str) -> str:
    """Tokens are stored as SHA-256 only."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


async def _issue_token(
    tx: Tx, *, kind: PrincipalKind, name: str, agent_id: str | None = None, conversation_id: str | None = None
) -> str:
    token = secrets.token_urlsafe(32)
    tx.session.add(
        TokenRow(
            id=new_id("tok"),
            token_hash=hash_token(token),
            kind=kind.value,
            name=name,
            agent_id=agent_id,
            conversation_id=conversation_id,
            created_at=utcnow(),
        )
    )
    return token


async def authenticate(session: AsyncSession, token: str) -> Principal | None:
    """The principal behind a bearer token, or None when the token is unknown."""
    row = await repo.token_by_hash(session, hash_token(token))
    if row is None:
        return None
    kind = PrincipalKind(row.kind)
    if kind is PrincipalKind.AGENT:
        agent_row = await repo.agent(session, row.agent_id or "")
        if agent_row is None:
            return None
        agent = agent_model(agent_row)
        return Principal(kind=kind, token_id=row.id, name=agent.name, agent=agent)
    return Principal(kind=kind, token_id=row.id, name=row.name, conversation_id=row.conversation_id)


# --- row -> wire model ------------------------------------------------------------------


def agent_model(row: AgentRow) -> Agent:
    return Agent(
        id=row.id,
        name=row.name,
        display_name=row.display_name,
        skills=list(row.skills),
        all_skills=row.all_skills,
        created_at=row.created_at,
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
    )


def handoff_model(row: HandoffRow, owner: AgentRow | None) -> Handoff:
    return Handoff(**summary_model(row, owner).model_dump(), packet=HandoffPacket.model_validate(row.packet))


def _summary_data(summary: HandoffSummary) -> dict:
    return {"handoff": HandoffSummary.model_validate(summary.model_dump()).model_dump(mode="json")}


# --- agents and bots ----------------------------------------------------------------------


def _check_skills(skills: Sequence[str], loc: tuple[str | int, ...]) -> list[str]:
    known = default_taxonomy().labels
    cleaned: list[str] = []
    for i, skill in enumerate(skills):
        s = skill.strip()
        if s not in known:
            raise field_error((*loc, i), f"unknown skill {skill!r}; known: {', '.join(known)}", value=skill)
        if s not in cleaned:
            cleaned.append(s)
    return cleaned


async def create_agent(
    tx: Tx, *, name: str, skills: Sequence[str], display_name: str = ""
) -> tuple[Agent, str]:
    """Add a specialist and issue its token (``skills=["all"]`` means every skill)."""
    all_skills = ALL_SKILLS in [s.strip() for s in skills]
    cleaned = [] if all_skills else _check_skills(skills, ("body", "skills"))
    if await repo.agent_by_name(tx.session, name) is not None:
        raise Conflict("name_taken", f"an agent named {name!r} already exists")
    row = AgentRow(
        id=new_id("agt"),
        name=name,
        display_name=display_name,
        skills=cleaned,
        all_skills=all_skills,
        created_at=utcnow(),
    )
    tx.session.add(row)
    try:
        await tx.session.flush()
    except IntegrityError as exc:
        raise Conflict("name_taken", f"an agent named {name!r} already exists") from exc
    token = await _issue_token(tx, kind=PrincipalKind.AGENT, name=name, agent_id=row.id)
    agent = agent_model(row)
    tx.emit(EventType.AGENT_CREATED, {"agent": agent.model_dump(mode="json")})
    return agent, token


async def issue_agent_token(tx: Tx, *, name: str) -> str:
    """A new token for an existing specialist (older tokens keep working)."""
    row = await repo.agent_by_name(tx.session, name)
    if row is None:
        raise NotFound("agent", name)
    return await _issue_token(tx, kind=PrincipalKind.AGENT, name=row.name, agent_id=row.id)


async def create_bot(tx: Tx, *, name: str) -> str:
    """Issue a bot token (product AI, simulator, integrations)."""
    return await _issue_token(tx, kind=PrincipalKind.BOT, name=name)


async def list_agents(session: AsyncSession) -> list[Agent]:
    return [agent_model(r) for r in await repo.agents(session)]


# --- conversations and messages ----------------------------------------------------------


async def _append_messages(
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
    return await _insert_messages(tx, conversation_id, int(reserved.last_seq) - len(items) + 1, items)


async def _insert_messages(
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
    token = await _issue_token(
        tx, kind=PrincipalKind.BUYER, name=spec.buyer.name or "buyer", conversation_id=row.id
    )
    tx.emit(
        EventType.CONVERSATION_CREATED,
        {"conversation": conversation_model(row).model_dump(mode="json")},
        conversation_id=row.id,
    )
    messages = await _append_messages(
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
        open_row = await repo.open_handoff(tx.session, conversation_id)
        if open_row is None or open_row.status != HandoffStatus.CLAIMED or open_row.claimed_by is None:
            raise Conflict("not_claimed", "claim this conversation's handoff before replying")
        if open_row.claimed_by != principal.agent.id:
            owner = await repo.agent(tx.session, open_row.claimed_by)
            raise Conflict(
                "claimed_by_other",
                "another specialist holds this conversation",
                owner=agent_ref(owner) if owner else None,
            )
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
    [message] = await _insert_messages(tx, conversation_id, int(conversation.last_seq), [item])
    return PostedMessage(message, bool(conversation.ai_assistant))


async def post_assistant_turn(
    tx: Tx,
    *,
    conversation_id: str,
    reply: str,
    handoff: NewHandoff | None = None,
    author_name: str = AI_AUTHOR,
) -> tuple[Message, HandoffCreated | None]:
    """The hub's product AI answers a buyer turn, and hands off in the same transaction if it must."""
    [message] = await _append_messages(
        tx, conversation_id, [(AuthorKind.AI, author_name, reply, False, None, None)]
    )
    created = await create_handoff(tx, spec=handoff) if handoff is not None else None
    return message, created


# --- handoffs ----------------------------------------------------------------------------


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


async def _check_turns(tx: Tx, packet: HandoffPacket, conversation_id: str) -> None:
    """Every ``source_turn``/``goal_turn`` must be a message seq of this conversation (422 if not)."""
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
        _check_skills(spec.required_skills, ("body", "required_skills"))
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
    await _check_turns(tx, spec.packet, conversation_id)
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
    model = handoff_model(handoff, None)
    tx.emit(
        EventType.HANDOFF_CREATED,
        _summary_data(model),
        conversation_id=conversation_id,
        handoff_id=handoff.id,
    )
    if spec.announce:
        await _append_messages(
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
) -> Handoff:
    changed = await repo.set_handoff_status(
        tx.session,
        handoff_id,
        where_status=where_status.value,
        where_claimed_by=None if action == "claim" else agent.id,
        values={**values, "updated_at": utcnow()},
    )
    if not changed:
        row = await _refuse(tx.session, handoff_id, agent, action=action)
        return handoff_model(row, await _owner(tx.session, row))  # claiming what you hold: 200
    row = await repo.handoff(tx.session, handoff_id)
    assert row is not None
    model = handoff_model(row, await _owner(tx.session, row))
    tx.emit(event, _summary_data(model), conversation_id=row.conversation_id, handoff_id=row.id)
    await _append_messages(
        tx, row.conversation_id, [(AuthorKind.SYSTEM, SYSTEM_AUTHOR, line, False, None, None)]
    )
    return model


def _display(agent: Agent) -> str:
    return agent.display_name or agent.name


async def claim_handoff(tx: Tx, *, agent: Agent, handoff_id: str) -> Handoff:
    """Take a queued handoff; exactly one concurrent claimer wins (conditional UPDATE)."""
    now = utcnow()
    return await _transition(
        tx,
        agent=agent,
        handoff_id=handoff_id,
        action="claim",
        where_status=HandoffStatus.QUEUED,
        values={"status": HandoffStatus.CLAIMED.value, "claimed_by": agent.id, "claimed_at": now},
        event=EventType.HANDOFF_CLAIMED,
        line=f"{_display(agent)} joined the conversation",
    )


async def claim(db: Database, *, agent: Agent, handoff_id: str) -> Handoff:
    """Claim with a lock-free fast path: a handoff already held by someone else is refused
    from a plain read, so a stampede of losers never queues behind the writer."""
    async with db.read() as session:
        row = await repo.handoff(session, handoff_id)
        if row is None:
            raise NotFound("handoff", handoff_id)
        if row.status != HandoffStatus.QUEUED:
            found = await _refuse(session, handoff_id, agent, action="claim")
            return handoff_model(found, await _owner(session, found))
    async with db.write() as tx:
        return await claim_handoff(tx, agent=agent, handoff_id=handoff_id)


async def release_handoff(tx: Tx, *, agent: Agent, handoff_id: str) -> Handoff:
    """Put a held handoff back in the queue."""
    return await _transition(
        tx,
        agent=agent,
        handoff_id=handoff_id,
        action="release",
        where_status=HandoffStatus.CLAIMED,
        values={"status": HandoffStatus.QUEUED.value, "claimed_by": None, "claimed_at": None},
        event=EventType.HANDOFF_RELEASED,
        line=f"{_display(agent)} stepped away; another specialist will pick this up shortly",
    )


async def resolve_handoff(tx: Tx, *, agent: Agent, handoff_id: str) -> Handoff:
    """Close a held handoff."""
    return await _transition(
        tx,
        agent=agent,
        handoff_id=handoff_id,
        action="resolve",
        where_status=HandoffStatus.CLAIMED,
        values={"status": HandoffStatus.RESOLVED.value, "resolved_at": utcnow()},
        event=EventType.HANDOFF_RESOLVED,
        line=f"{_display(agent)} marked this conversation as resolved",
    )
