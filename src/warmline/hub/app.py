"""The hub's ASGI app: `create_app(settings)`; routers under /v1, the database in the lifespan."""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Receive, Scope, Send

from warmline.catalog.service import CatalogService
from warmline.domain.models import ErrorDetail
from warmline.escalation.engine import EscalationEngine
from warmline.escalation.llm import ChatPhraser
from warmline.hub.api import agents, assist, conversations, events, handoffs, meta, widget
from warmline.hub.assignment import AssignmentConfig
from warmline.hub.assist_jobs import AssistRunner
from warmline.hub.assistant import HubAssistant
from warmline.hub.auth import PrincipalCache
from warmline.hub.errors import HubError, validation_error
from warmline.hub.events import EventFeed
from warmline.hub.inputs import headers_too_large
from warmline.hub.lifecycle.runner import Lifecycle
from warmline.hub.middleware import BodySizeLimit, InputGuard, reject_header_fields
from warmline.hub.packet_refresh import PacketRefresher
from warmline.hub.presence import PresenceBoard
from warmline.hub.reply_timer import ReplyTimer
from warmline.hub.settings import HubSettings
from warmline.hub.store.db import Database
from warmline.storage.engine import database_error_types, database_unavailable

log = logging.getLogger(__name__)


class ErrorBody(BaseModel):
    """Every refusal except request validation: ``{"detail": ErrorDetail}``."""

    detail: ErrorDetail


class FieldProblem(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ValidationBody(BaseModel):
    """FastAPI's validation answer: which field, and why."""

    detail: list[FieldProblem]


# What any /v1 route may answer besides its success (the OpenAPI document says so, and
# tests/hub/test_fuzz.py holds every answer to it).
ERROR_RESPONSES: dict[int | str, dict] = {
    401: {"model": ErrorBody, "description": "no token, or an unknown one"},
    403: {"model": ErrorBody, "description": "this token may not do this"},
    404: {"model": ErrorBody, "description": "unknown id (or route)"},
    409: {"model": ErrorBody, "description": "a conflict: claimed, resolved, taken, open"},
    413: {"model": ErrorBody, "description": "request body too large"},
    431: {"model": ErrorBody, "description": "over 100 header fields or 16 KiB of them"},
    422: {
        "model": ValidationBody | ErrorBody,
        "description": "a field and the reason; or a refused Idempotency-Key (code idempotency_key_reused)",
    },
    503: {"model": ErrorBody, "description": "the database is unavailable; retry shortly"},
}

# Routers other features add; each is included when its module exists.
OPTIONAL_ROUTERS = (
    "warmline.hub.api.catalog",
    "warmline.hub.api.escalation",
    "warmline.hub.api.signin",
    "warmline.hub.api.history",
    "warmline.hub.api.team",
    "warmline.hub.replies",
    "warmline.hub.api.metrics",
    "warmline.hub.lifecycle.api",
)


def optional_routers() -> list[APIRouter]:
    """The routers of features that are installed (a missing module is simply skipped)."""
    found = []
    for module_name in OPTIONAL_ROUTERS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue
            raise
        found.append(module.router)
    return found


class HubApp(FastAPI):
    """The hub's FastAPI app, with its two hottest requests answered before the middleware stack.

    A buyer's message POST and the console's event stream are most of the traffic; for
    their common case (see ``FastMessageRoute`` and ``events.answer_fast``) the layers
    every other route goes through cost as much CPU as the work itself. Everything else,
    and whatever those two decline, goes through the whole app as usual.

    The seam: ``__call__`` below is the only place requests skip the middleware stack,
    dependency solving and response classes. Justified by benchmarks/hub_post_cpu.py and
    benchmarks/event_delivery.py (docs/benchmarks.md, "Event delivery": hot routes ahead of
    FastAPI). ``fast_paths`` False (HubSettings.fast_paths: ``--no-fast-paths``,
    ``WARMLINE_FAST_PATHS=0``) sends them through the whole app too;
    tests/hub/test_fast_path.py checks both give the same answers."""

    fast_messages: conversations.FastMessageRoute
    fast_paths: bool = True
    widget_cors: widget.WidgetCors | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            if self.widget_cors is not None:  # CORS for web-widget pages (the fast routes too)
                gated = await self.widget_cors.gate(scope, send)
                if gated is None:
                    return  # a preflight, answered
                send = gated
            if why := headers_too_large(scope["headers"]):  # before every route, the fast ones too
                await reject_header_fields(send, why)
                return
            if self.openapi_schema is None and scope["path"] == self.openapi_url:
                await asyncio.to_thread(self.openapi)  # built once: ~0.3 s of CPU, not on the loop
            if self.fast_paths and scope["method"] == "GET" and scope["path"] == "/v1/events":
                scope["app"] = self
                if await events.answer_fast(self, scope, receive, send):
                    return
            elif self.fast_paths and (conversation_id := conversations.FastMessageRoute.match(scope)):
                await self.fast_messages.handle(scope, receive, send, conversation_id, super().__call__)
                return
        await super().__call__(scope, receive, send)


def create_app(settings: HubSettings | None = None) -> FastAPI:
    """Build the hub; the database opens in the lifespan, so the app is cheap to create."""
    settings = settings or HubSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = Database(settings.database_url, fast_paths=settings.fast_paths)
        await db.start()
        feed = EventFeed(
            db,
            poll_seconds=settings.sse_poll_seconds,
            tick_seconds=min(1.0, settings.sse_keepalive_seconds / 2),  # keepalives on time
        )
        await feed.start()
        app.state.db = db
        app.state.feed = feed
        engine = EscalationEngine(catalog=CatalogService(db.engine), llm=ChatPhraser.from_settings())
        app.state.escalation = (db.engine, engine)  # shared with POST /v1/escalation/decide
        app.state.assistant = assistant = HubAssistant(db, engine)
        app.state.packets = packets = PacketRefresher(db, engine)
        app.state.assist_runner = assist_runner = AssistRunner.from_settings(db)
        await assist_runner.start()  # jobs a previous process left unfinished are marked failed
        app.state.reply_timer = reply_timer = ReplyTimer(db, app.state.assignment)
        await reply_timer.start()  # the reply-timeout sweep (warmline.hub.reply_timer)
        app.state.presence = presence = PresenceBoard(db)
        feed.on_stream = presence.on_stream  # online / offline with the agent's streams
        app.state.lifecycle = lifecycle = Lifecycle(db, feed, app.state.principals, settings)
        await lifecycle.start()  # sweeps and the revocation watch (warmline.hub.lifecycle)
        try:
            yield
        finally:
            await lifecycle.aclose()
            db.bus.close()
            await reply_timer.aclose()
            feed.on_stream = None
            await presence.aclose()
            await assistant.aclose()
            await packets.aclose()
            await assist_runner.aclose()
            await feed.close()
            await db.close()

    app = HubApp(
        title="Warmline hub",
        version="1",
        summary="Conversations, handoffs and the event log behind the Warmline console.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.assignment = AssignmentConfig.load(settings)  # team rules (policy + settings)
    app.state.principals = PrincipalCache()
    app.add_middleware(InputGuard)  # (inside BodySizeLimit: the body it reads is bounded)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_request_bytes)
    app.add_exception_handler(RequestValidationError, validation_error)  # type: ignore[arg-type]

    @app.exception_handler(HubError)
    async def _hub_error(_request: Request, exc: HubError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse({"detail": exc.detail().model_dump(mode="json")}, exc.status, headers=headers)

    async def _database_down(_request: Request, exc: Exception) -> JSONResponse:
        """The database is down or restarting: 503 at once (retry later), never a hang or a 500."""
        if not database_unavailable(exc):
            raise exc
        log.warning("database unavailable: %s: %s", type(exc).__name__, exc)
        body = {"code": "database_unavailable", "message": "the database is unavailable; retry shortly"}
        return JSONResponse({"detail": {**body, "owner": None}}, 503, headers={"Retry-After": "1"})

    for exc_type in database_error_types():
        app.add_exception_handler(exc_type, _database_down)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> Response:
        """Unknown routes and methods answer in the hub's error shape too (not ``"Not Found"``)."""
        if exc.status_code < 200 or exc.status_code in (204, 304):
            return Response(status_code=exc.status_code, headers=exc.headers)  # no body allowed
        if isinstance(exc.detail, dict):
            detail = exc.detail
        else:
            code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
            detail = {"code": code, "message": str(exc.detail), "owner": None}
        return JSONResponse({"detail": detail}, exc.status_code, headers=exc.headers)

    v1 = APIRouter(prefix="/v1", responses=ERROR_RESPONSES)
    for router in (
        meta.router,
        agents.router,
        conversations.router,
        handoffs.router,
        events.router,
        assist.router,
    ):
        v1.include_router(router)
    for router in optional_routers():
        v1.include_router(router)
    app.include_router(v1)
    widget.install(app, ERROR_RESPONSES)  # the web widget: files, public start route, CORS
    app.fast_messages = conversations.FastMessageRoute(app, settings.max_request_bytes)
    app.fast_paths = settings.fast_paths
    return app


def begin_shutdown(app: FastAPI) -> None:
    """End every open event stream now, so the server's graceful shutdown does not wait on them."""
    db: Database | None = getattr(app.state, "db", None)
    if db is not None:
        db.bus.close()
