"""The event stream: replay from the log after a given id, then follow it live (SSE)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Sequence

from warmline.domain.models import Event, EventType, PrincipalKind
from warmline.hub.errors import field_error
from warmline.hub.principal import Principal
from warmline.hub.store import repository as repo
from warmline.hub.store.db import Database
from warmline.hub.store.tables import EventRow

BATCH = 500
BUYER_EVENT_TYPES = {EventType.CONVERSATION_CREATED.value, EventType.MESSAGE_CREATED.value}


def event_model(row: EventRow) -> Event:
    return Event(
        id=row.id,
        type=EventType(row.type),
        created_at=row.created_at,
        conversation_id=row.conversation_id,
        handoff_id=row.handoff_id,
        data=row.data,
    )


def visible_to(principal: Principal, row: EventRow) -> bool:
    """Buyers see only their conversation's transcript events, and no internal notes."""
    if principal.kind is not PrincipalKind.BUYER:
        return True
    if row.conversation_id != principal.conversation_id or row.type not in BUYER_EVENT_TYPES:
        return False
    if row.type == EventType.MESSAGE_CREATED.value:
        return not bool(row.data.get("message", {}).get("internal"))
    return True


def format_sse(event: Event) -> str:
    """One SSE frame: id, event name and the Event as JSON."""
    data = json.dumps(event.model_dump(mode="json"), separators=(",", ":"))
    return f"id: {event.id}\nevent: {event.type.value}\ndata: {data}\n\n"


async def read_after(db: Database, principal: Principal, after: int) -> tuple[Sequence[EventRow], int]:
    """The next batch of events after ``after`` and the new cursor (past filtered ones too)."""
    conversation_id = principal.conversation_id if principal.kind is PrincipalKind.BUYER else None
    async with db.read() as session:
        rows = await repo.events_after(session, after, limit=BATCH, conversation_id=conversation_id)
    cursor = rows[-1].id if rows else after
    return rows, cursor


async def stream_events(
    db: Database,
    principal: Principal,
    *,
    last_event_id: int | None,
    keepalive_seconds: float,
    poll_seconds: float,
) -> AsyncIterator[str]:
    """SSE frames forever: the backlog after ``last_event_id`` (or now), then live events."""
    bus = db.bus
    cursor = last_event_id if last_event_id is not None else await db.last_event_id()
    bus.streams += 1
    try:
        yield f"retry: 2000\n: warmline event stream from {cursor}\n\n"
        last_sent = time.monotonic()
        while not bus.closed:
            seen = bus.version
            rows, cursor = await read_after(db, principal, cursor)
            frames = [format_sse(event_model(r)) for r in rows if visible_to(principal, r)]
            if frames:
                yield "".join(frames)
                last_sent = time.monotonic()
            if len(rows) >= BATCH:
                continue
            until_keepalive = keepalive_seconds - (time.monotonic() - last_sent)
            if until_keepalive <= 0:
                yield ": keepalive\n\n"
                last_sent = time.monotonic()
                until_keepalive = keepalive_seconds
            await bus.wait(seen, min(poll_seconds, until_keepalive))
    finally:
        bus.streams -= 1


def parse_last_event_id(header: str | None, query: int | None) -> int | None:
    """The resume point: the Last-Event-ID header wins over ?last_event_id=."""
    if header is not None and header.strip():
        try:
            value = int(header.strip())
        except ValueError:
            raise field_error(
                ("header", "last-event-id"), "must be an integer event id", value=header
            ) from None
        if value < 0:
            raise field_error(("header", "last-event-id"), "must be >= 0", value=header)
        return value
    return query
