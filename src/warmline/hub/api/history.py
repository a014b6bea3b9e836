"""The History view's routes: find past and present conversations, and reopen a resolved one.

``GET /v1/conversations?q=&status=&limit=`` (agents): handoffs, newest first, whose company,
SKUs, summary, buyer name or any message text holds every word of ``q`` (case-insensitive
substring match, each word a bound LIKE pattern with its wildcards escaped);
``status`` is a comma list (default: every status).

``POST /v1/conversations/{id}/reopen`` (agents): the buyer wrote again after the handoff was
resolved; a new handoff is opened from the last one's packet, skills and priority, and
claimed by the caller in the same transaction (409 ``handoff_open`` when one is open
already, 404 when the conversation never had a handoff).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import String, and_, cast, exists, func, or_, select

from warmline.domain.history import HistoryItem, HistoryPage
from warmline.domain.models import AuthorKind, Buyer, Handoff, HandoffStatus, NewHandoff
from warmline.domain.packet import HandoffPacket, Priority
from warmline.hub import service
from warmline.hub.auth import DB, AgentOnly
from warmline.hub.errors import Conflict, NotFound, field_error
from warmline.hub.store import repository as repo
from warmline.hub.store.tables import ConversationRow, HandoffRow, MessageRow

router = APIRouter(tags=["history"])

MAX_TERMS = 8
MAX_LIMIT = 200
SNIPPET = 140


def _terms(q: str | None) -> list[str]:
    terms = [t for t in (q or "").lower().split() if t]
    if len(terms) > MAX_TERMS:
        raise field_error(("query", "q"), f"at most {MAX_TERMS} words", value=q)
    return terms


def _word_matches(term: str) -> Any:
    """One word: in the handoff's search text (company, SKUs, summary…), the buyer, or a message."""
    pattern = repo.contains_pattern(term)
    in_message = exists(
        select(MessageRow.id).where(
            MessageRow.conversation_id == HandoffRow.conversation_id,
            func.lower(MessageRow.body).like(pattern, escape="\\"),
        )
    )
    return or_(
        HandoffRow.search_text.like(pattern, escape="\\"),
        func.lower(cast(ConversationRow.buyer, String)).like(pattern, escape="\\"),
        func.lower(ConversationRow.subject).like(pattern, escape="\\"),
        in_message,
    )


@router.get("/conversations", response_model=HistoryPage)
async def find_conversations(
    db: DB,
    agent: AgentOnly,
    q: Annotated[str | None, Query(max_length=200, description="words to find (all must match)")] = None,
    status: Annotated[str | None, Query(description="comma list of handoff statuses; default all")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
) -> HistoryPage:
    """Conversations with a handoff, newest first, found by company, buyer, SKU or message text."""
    statuses = (
        service.parse_statuses(status) if status and status.strip() else [s.value for s in HandoffStatus]
    )
    terms = _terms(q)
    stmt = (
        select(HandoffRow, ConversationRow)
        .join(ConversationRow, ConversationRow.id == HandoffRow.conversation_id)
        .where(HandoffRow.status.in_(statuses), *(_word_matches(t) for t in terms))
        .order_by(HandoffRow.created_at.desc(), HandoffRow.id.desc())
        .limit(limit + 1)
    )
    async with db.read() as session:
        rows = (await session.execute(stmt)).all()
        more = len(rows) > limit
        rows = rows[:limit]
        owners = await repo.agents_by_id(session, {h.claimed_by for h, _ in rows if h.claimed_by})
        last = await _last_messages(session, [c.id for _, c in rows])
        snippets = await _snippets(session, [c.id for _, c in rows], terms)
    items = []
    for h, c in rows:
        owner = owners.get(h.claimed_by) if h.claimed_by else None
        summary = service.summary_model(h, owner)
        last_at, last_kind = last.get(c.id, (None, None))
        resolved_after = bool(
            h.status == HandoffStatus.RESOLVED.value
            and last_kind == AuthorKind.BUYER.value
            and h.resolved_at is not None
            and last_at is not None
            and last_at > h.resolved_at
        )
        items.append(
            HistoryItem(
                handoff=summary,
                buyer_name=Buyer.model_validate(c.buyer).name,
                subject=c.subject,
                last_message_at=last_at,
                last_author_kind=AuthorKind(last_kind) if last_kind else None,
                buyer_wrote_after_resolve=resolved_after,
                snippet=snippets.get(c.id, ""),
            )
        )
    return HistoryPage(items=items, more=more)


async def _last_messages(session: Any, conversation_ids: list[str]) -> dict[str, tuple[Any, str]]:
    """Per conversation: when the newest non-internal message came and who wrote it."""
    if not conversation_ids:
        return {}
    newest = (
        select(MessageRow.conversation_id, func.max(MessageRow.seq).label("seq"))
        .where(MessageRow.conversation_id.in_(conversation_ids), MessageRow.internal.is_(False))
        .group_by(MessageRow.conversation_id)
        .subquery()
    )
    stmt = select(MessageRow.conversation_id, MessageRow.created_at, MessageRow.author_kind).join(
        newest, and_(MessageRow.conversation_id == newest.c.conversation_id, MessageRow.seq == newest.c.seq)
    )
    return {cid: (at, kind) for cid, at, kind in (await session.execute(stmt)).all()}


async def _snippets(session: Any, conversation_ids: list[str], terms: list[str]) -> dict[str, str]:
    """A message holding the first word, per conversation, cut around it."""
    if not conversation_ids or not terms:
        return {}
    stmt = (
        select(MessageRow.conversation_id, MessageRow.body)
        .where(
            MessageRow.conversation_id.in_(conversation_ids),
            func.lower(MessageRow.body).like(repo.contains_pattern(terms[0]), escape="\\"),
        )
        .order_by(MessageRow.seq.desc())
    )
    out: dict[str, str] = {}
    for cid, body in (await session.execute(stmt)).all():
        if cid in out:
            continue
        at = body.lower().find(terms[0])
        start = max(0, at - SNIPPET // 3)
        text = body[start : start + SNIPPET].replace("\n", " ")
        out[cid] = ("…" if start else "") + text + ("…" if start + SNIPPET < len(body) else "")
    return out


@router.post("/conversations/{conversation_id}/reopen", status_code=201, response_model=Handoff)
async def reopen_conversation(db: DB, agent: AgentOnly, conversation_id: str) -> Handoff:
    """A new handoff from the last resolved one's packet, claimed by the caller."""
    async with db.write() as tx:
        last = await tx.session.scalar(
            select(HandoffRow)
            .where(HandoffRow.conversation_id == conversation_id)
            .order_by(HandoffRow.created_at.desc(), HandoffRow.id.desc())
            .limit(1)
        )
        if last is None:
            raise NotFound("conversation", conversation_id)
        if last.status != HandoffStatus.RESOLVED.value:
            raise Conflict("handoff_open", "this conversation already has an open handoff")
        created = await service.create_handoff(
            tx,
            spec=NewHandoff(
                conversation_id=conversation_id,
                packet=HandoffPacket.model_validate(last.packet),
                required_skills=list(last.required_skills),
                priority=Priority(last.priority),
                announce=False,
            ),
        )
        return await service.claim_handoff(tx, agent=agent, handoff_id=created.handoff.id)
