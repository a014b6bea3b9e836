"""The Server-Sent Events stream of the event log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse

from warmline.hub.auth import Caller
from warmline.hub.events import parse_last_event_id, stream_events

router = APIRouter(tags=["events"])


@router.get(
    "/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "SSE: the event log, live"}},
)
async def events(
    request: Request,
    caller: Caller,
    last_event_id_header: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    last_event_id: Annotated[int | None, Query(ge=0, description="resume after this id")] = None,
) -> StreamingResponse:
    """Replay after Last-Event-ID (header or query), then live; without one, live from now."""
    settings = request.app.state.settings
    after = parse_last_event_id(last_event_id_header, last_event_id)
    return StreamingResponse(
        stream_events(
            request.app.state.feed,
            caller,
            last_event_id=after,
            keepalive_seconds=settings.sse_keepalive_seconds,
        ),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
