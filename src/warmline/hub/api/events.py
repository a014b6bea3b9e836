"""The Server-Sent Events stream of the event log."""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import StreamingResponse
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from warmline.hub import service
from warmline.hub.auth import Caller, bearer_token, cached_principal
from warmline.hub.errors import HubError
from warmline.hub.events import MAX_EVENT_ID, EventFeed, parse_last_event_id, serve_events
from warmline.hub.principal import Principal

router = APIRouter(tags=["events"])

_EVENT_ID = re.compile(r"[0-9]{1,18}")  # ASCII digits within MAX_EVENT_ID


class EventStreamResponse(Response):
    """The SSE response: ``serve_events`` writes it (the feed writes live events itself)."""

    media_type = "text/event-stream"

    def __init__(self, feed: EventFeed, principal: Principal, after: int | None, keepalive: float) -> None:
        super().__init__(media_type=self.media_type)
        self.feed = feed
        self.principal = principal
        self.after = after
        self.keepalive = keepalive

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await serve_events(
            self.feed,
            self.principal,
            last_event_id=self.after,
            keepalive_seconds=self.keepalive,
            receive=receive,
            send=send,
        )


@router.get(
    "/events",
    response_class=StreamingResponse,  # (for the OpenAPI document: a stream, no JSON model)
    responses={200: {"content": {"text/event-stream": {}}, "description": "SSE: the event log, live"}},
)
async def events(
    request: Request,
    caller: Caller,
    last_event_id_header: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    last_event_id: Annotated[
        int | None, Query(ge=0, le=MAX_EVENT_ID, description="resume after this id")
    ] = None,
) -> Response:
    """Replay after Last-Event-ID (header or query), then live; without one, live from now."""
    settings = request.app.state.settings
    after = parse_last_event_id(last_event_id_header, last_event_id)
    return EventStreamResponse(request.app.state.feed, caller, after, settings.sse_keepalive_seconds)


async def answer_fast(app: Any, scope: Scope, receive: Receive, send: Send) -> bool:
    """``GET /v1/events`` ahead of FastAPI's layers (``HubApp``): True when answered here.

    Consoles hold this stream open for hours and every event crosses it, so it skips the
    middleware stack and StreamingResponse's per-chunk machinery. Only the common request
    is taken: a bearer token that is known (cache or database) and a valid resume point
    (``Last-Event-ID`` header or a single ``last_event_id`` query parameter). Anything else
    -- no or unknown token, a bad resume point -- returns False before anything is read or
    sent, and the FastAPI route answers (with the same 401 or 422 as always)."""
    headers = Headers(scope=scope)
    token = bearer_token(headers.get("authorization"))
    if token is None:
        return False
    after_query: int | None = None
    if scope.get("query_string"):
        values = [
            v
            for k, v in parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
            if k == "last_event_id"
        ]
        if len(values) > 1 or (values and not _EVENT_ID.fullmatch(values[0])):
            return False  # (str.isdigit() also takes "²", which int() refuses)
        after_query = int(values[0]) if values else None
    try:
        after = parse_last_event_id(headers.get("last-event-id"), after_query)
    except (HubError, RequestValidationError):  # the FastAPI route gives the 422
        return False
    principal = cached_principal(app, token)
    if principal is None:
        try:
            async with app.state.db.read() as session:
                principal = await service.authenticate(session, token)
        except Exception:  # (a database outage: the FastAPI route answers 503)
            return False
        if principal is None:
            return False
        app.state.principals.put(service.hash_token(token), principal)
    await serve_events(
        app.state.feed,
        principal,
        last_event_id=after,
        keepalive_seconds=app.state.settings.sse_keepalive_seconds,
        receive=receive,
        send=send,
    )
    return True
