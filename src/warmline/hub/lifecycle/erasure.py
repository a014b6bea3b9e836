"""Erasing a buyer's personal data from one conversation (``warmline erase``,
``DELETE /v1/conversations/{id}/personal-data``).

What goes: the buyer's name and email, the subject, every message body (buyer, AI and
specialist replies, internal notes: any may quote the buyer) and the buyer's author name,
the handoff's summary, the packet's free text (goal, notes, constraints, documents,
urgency), the assistant jobs' requests and results, the events' copies of all of these,
idempotency answers that carried them, and the buyer's tokens. Text becomes
``PLACEHOLDER``; rows, ids, positions, reasons, priorities, SKUs, statuses and every
timestamp stay, so counts, timings and the metrics' captured facts are unchanged.

Every hub instance redacts its in-memory event feed too (the erasure bumps the revocation
counter and is audited; warmline.hub.lifecycle.runner reads the audit entry).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Text, cast, delete, select, update

from warmline.domain.models import Event, EventType
from warmline.hub.errors import NotFound
from warmline.hub.events import EventFeed, FeedEntry
from warmline.hub.lifecycle import audit, state
from warmline.hub.store.db import Tx, utcnow
from warmline.hub.store.tables import (
    AssistJobRow,
    ConversationRow,
    EventRow,
    HandoffRow,
    IdempotencyRow,
    MessageRow,
    TokenRow,
)

PLACEHOLDER = "[erased]"
# Values under these keys are not personal data and are kept (ids, kinds, reasons, SKUs,
# business facts of the account); keys ending in _id, _at or _turn are kept too.
KEEP_KEYS = frozenset(
    {
        "id", "type", "kind", "author_kind", "status", "priority", "priority_rank", "reason",
        "secondary_reasons", "sub_reason", "product_family", "family", "sku", "role", "unit",
        "tier", "region", "company", "buyer_company", "enterprise", "signals", "required_skills",
        "skills", "all_skills", "internal", "seq", "ai_assistant", "stage", "progress", "amount",
        "score", "outcome",
    }
)  # fmt: skip
# Sub-objects naming specialists (not the buyer): kept whole.
AGENT_KEYS = frozenset({"claimed_by", "agent", "requested_by", "resolved_by", "assignee"})


def _kept(key: str) -> bool:
    return key in KEEP_KEYS or key.endswith(("_id", "_at", "_turn"))


def redact(value: Any, key: str = "") -> Any:
    """``value`` with every string that may hold personal data replaced by PLACEHOLDER."""
    if isinstance(value, dict):
        if key in AGENT_KEYS:
            return value
        out: dict[str, Any] = {}
        for k, v in value.items():
            if k == "author_name" and value.get("author_kind") not in (None, "buyer"):
                out[k] = v  # a specialist's or the AI's name
            elif _kept(k):
                out[k] = v
            else:
                out[k] = redact(v, k)
        return out
    if isinstance(value, list):
        return [redact(v, key) for v in value]
    if isinstance(value, str):
        return PLACEHOLDER if value else value
    return value


def redact_buyer(buyer: dict[str, Any]) -> dict[str, Any]:
    keep: dict[str, Any] = {k: buyer[k] for k in ("company", "tier", "region") if k in buyer}
    return {**buyer, "name": PLACEHOLDER, "email": "", **keep}


async def erase_conversation(tx: Tx, *, conversation_id: str, actor: str) -> dict[str, int]:
    """Erase the conversation's personal data in this transaction; counts of what changed."""
    session = tx.session
    conversation = await session.get(ConversationRow, conversation_id)
    if conversation is None:
        raise NotFound("conversation", conversation_id)
    conversation.buyer = redact_buyer(dict(conversation.buyer or {}))
    conversation.subject = PLACEHOLDER if conversation.subject else ""
    no_sync = {"synchronize_session": False}
    done: dict[str, int] = {}
    result = await session.execute(
        update(MessageRow).where(MessageRow.conversation_id == conversation_id).values(body=PLACEHOLDER),
        execution_options=no_sync,
    )
    done["messages"] = int(result.rowcount or 0)  # type: ignore[attr-defined]
    await session.execute(
        update(MessageRow)
        .where(MessageRow.conversation_id == conversation_id, MessageRow.author_kind == "buyer")
        .values(author_name=PLACEHOLDER),
        execution_options=no_sync,
    )
    handoffs = list(
        await session.scalars(select(HandoffRow).where(HandoffRow.conversation_id == conversation_id))
    )
    for handoff in handoffs:
        handoff.summary = PLACEHOLDER
        handoff.packet = redact(handoff.packet)
        handoff.search_text = " ".join(
            p for p in (handoff.buyer_company, handoff.product_family) if p
        ).lower()
    done["handoffs"] = len(handoffs)
    jobs = list(
        await session.scalars(select(AssistJobRow).where(AssistJobRow.conversation_id == conversation_id))
    )
    for job in jobs:
        job.request = redact(job.request)
        job.result = redact(job.result) if job.result is not None else None
        job.error = PLACEHOLDER if job.error else job.error
    done["assist_jobs"] = len(jobs)
    events = 0
    rows = await session.execute(
        select(EventRow.id, EventRow.data).where(EventRow.conversation_id == conversation_id)
    )
    for event_id, data in rows.all():
        await session.execute(
            update(EventRow).where(EventRow.id == event_id).values(data=redact(data)),
            execution_options=no_sync,
        )
        events += 1
    done["events"] = events
    # idempotency answers that carried this conversation (a scan; erasures are rare)
    result = await session.execute(
        delete(IdempotencyRow).where(cast(IdempotencyRow.response_body, Text).contains(conversation_id)),
        execution_options=no_sync,
    )
    done["idempotency_keys"] = int(result.rowcount or 0)  # type: ignore[attr-defined]
    now = utcnow()
    result = await session.execute(
        update(TokenRow)
        .where(TokenRow.conversation_id == conversation_id, TokenRow.expires_at.is_(None))
        .values(expires_at=now),
        execution_options=no_sync,
    )
    done["buyer_tokens"] = int(result.rowcount or 0)  # type: ignore[attr-defined]
    await _erase_optional(tx, conversation_id)
    await state.bump(session, state.REVOCATIONS)
    await audit.record(session, actor=actor, action="erase", target=conversation_id, detail=done)
    return done


async def _erase_optional(tx: Tx, conversation_id: str) -> None:
    """Tables of optional features: the widget's message refs, the metrics' rating comment."""
    try:
        from warmline.buyer.tables import MessageRefRow
    except ImportError:  # pragma: no cover - feature absent
        MessageRefRow = None  # type: ignore[assignment,misc]
    if MessageRefRow is not None:
        refs = list(
            await tx.session.scalars(
                select(MessageRefRow).where(MessageRefRow.conversation_id == conversation_id)
            )
        )
        for ref in refs:
            ref.data = redact(ref.data)
    try:
        from warmline.hub.metrics.tables import HandoffFactRow
    except ImportError:  # pragma: no cover - feature absent
        return
    if hasattr(HandoffFactRow, "rating_comment"):
        await tx.session.execute(
            update(HandoffFactRow)
            .where(
                HandoffFactRow.conversation_id == conversation_id, HandoffFactRow.rating_comment.is_not(None)
            )
            .values(rating_comment=PLACEHOLDER),
            execution_options={"synchronize_session": False},
        )


async def redact_feed(feed: EventFeed, conversation_ids: set[str]) -> int:
    """Redact the erased conversations' events held in this instance's feed (and forget
    their cached positions); how many entries changed."""

    def change(entry: FeedEntry) -> FeedEntry | None:
        if entry.conversation_id not in conversation_ids:
            return None
        event = json.loads(entry.frame.split("\ndata: ", 1)[1].rstrip("\n"))
        return FeedEntry.of(
            Event.model_validate({**event, "type": EventType(event["type"]), "data": redact(event["data"])})
        )

    changed = await feed.rewrite(change)
    cache = getattr(feed.db, "conversations", None)
    if cache is not None:
        for cid in conversation_ids:
            cache.pop(cid, None)
    return changed
