"""The web widget's side of the hub: its files, the public route that opens a conversation
from a page (widget key + allowed Origin, rate-limited), the buyer's view of the handoff,
typing signals, CORS for the buyer's routes, and the demo shop page.

The buyer's other routes are the hub's usual ones with the buyer token
(``GET /v1/conversations/{id}``, ``POST .../messages``, ``GET /v1/events``); ``WidgetCors``
answers their CORS for origins some widget key allows. See docs/widget.md.
"""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from starlette.datastructures import Headers
from starlette.types import Message as ASGIMessage
from starlette.types import Scope, Send

from warmline.buyer import keys as widget_keys
from warmline.buyer.assets import Asset, packaged
from warmline.buyer.guard import Rate, RateLimiter, WidgetSettings
from warmline.buyer.pages import shop_page
from warmline.buyer.tables import MessageRefRow, WidgetConversationRow
from warmline.catalog import tables as catalog_tables
from warmline.domain.models import Buyer, EventType, NewConversation, PrincipalKind
from warmline.hub import service
from warmline.hub.auth import DB, Caller
from warmline.hub.errors import Conflict, Forbidden, NotFound
from warmline.hub.store import repository as repo
from warmline.hub.store.db import Database
from warmline.hub.store.tables import OPEN_STATUSES, AgentRow, HandoffRow

router = APIRouter(tags=["widget"])
public = APIRouter(include_in_schema=False)

START_PATH = "/v1/widget/conversations"
# The routes a page's widget calls (CORS is answered for these only).
_BUYER_PATHS = re.compile(r"^/v1/(widget/[a-z]+|events|me|conversations/[^/]+(/messages|/typing|/rating)?)$")
ALLOW_HEADERS = "Authorization, Content-Type, Idempotency-Key, Last-Event-ID"
IMMUTABLE = "public, max-age=31536000, immutable"
LOADER_CACHE = "public, max-age=300"


# --- files -----------------------------------------------------------------------------


def _serve(request: Request, asset: Asset, cache_control: str) -> Response:
    headers = {
        "Cache-Control": cache_control,
        "ETag": asset.etag,
        "Vary": "Accept-Encoding",
        "Access-Control-Allow-Origin": "*",
        "X-Content-Type-Options": "nosniff",
    }
    if asset.etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"
        return Response(asset.gzipped, media_type=asset.content_type, headers=headers)
    return Response(asset.body, media_type=asset.content_type, headers=headers)


@public.get("/widget.js")
async def loader(request: Request) -> Response:
    """The one-line embed: ``<script src="HUB/widget.js" data-workspace="KEY" async>``."""
    return _serve(request, packaged().loader, LOADER_CACHE)


@public.get("/widget/{name}")
async def widget_file(request: Request, name: str) -> Response:
    asset = packaged().files.get(name)
    if asset is None:
        raise NotFound("widget file", name)
    return _serve(request, asset, IMMUTABLE)


@public.get("/demo/shop", response_class=HTMLResponse)
async def demo_shop(request: Request, db: DB) -> HTMLResponse:
    """A demo product page with the widget on it (only while a demo widget key exists), and
    links to play the buyer of the oldest open handoffs the simulator left alone."""
    async with db.read() as session:
        row = await widget_keys.key_by_label(session, widget_keys.DEMO_LABEL)
    if row is None:
        raise NotFound("page", "/demo/shop")
    people = await _buyers_to_play(request.app, db)
    return HTMLResponse(shop_page(row.key, people), headers={"Cache-Control": "no-store"})


DEMO_BUYERS = 3  # = the simulator's left_for_people in `warmline demo`


async def _buyers_to_play(app: FastAPI, db: Database) -> list[tuple[str, str, str]]:
    """(label, conversation id, buyer token) for the oldest open handoffs not opened by a
    page: the demo simulator never writes in those, so a person can be their buyer. Each
    gets a buyer token of its own, made once per hub process."""
    tokens: dict[str, str] | None = getattr(app.state, "demo_buyer_tokens", None)
    if tokens is None:
        tokens = app.state.demo_buyer_tokens = {}
    found: list[tuple[str, str, str]] = []
    async with db.write() as tx:
        rows = await tx.session.execute(
            select(HandoffRow.conversation_id, HandoffRow.buyer_company, HandoffRow.summary)
            .outerjoin(
                WidgetConversationRow, WidgetConversationRow.conversation_id == HandoffRow.conversation_id
            )
            .where(HandoffRow.status.in_(OPEN_STATUSES), WidgetConversationRow.conversation_id.is_(None))
            .order_by(HandoffRow.created_at)
            .limit(DEMO_BUYERS)
        )
        for conversation_id, company, summary in rows.all():
            if conversation_id not in tokens:
                tokens[conversation_id] = await service.issue_token(
                    tx, kind=PrincipalKind.BUYER, name="demo buyer", conversation_id=conversation_id
                )
            found.append((f"{company}: {summary}", conversation_id, tokens[conversation_id]))
    return found


# --- opening a conversation from a page ----------------------------------------------


class WidgetStart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(min_length=1, max_length=64, description="the widget key (data-workspace)")
    page: str = Field(default="", max_length=500, description="the page the chat was opened on")


class WidgetStarted(BaseModel):
    conversation_id: str
    buyer_token: str
    last_event_id: int = Field(description="stream events after this id (GET /v1/events)")


def _limiters(app: FastAPI) -> tuple[RateLimiter, RateLimiter]:
    state = app.state
    if getattr(state, "widget_limits", None) is None:
        settings = WidgetSettings()
        state.widget_limits = (
            RateLimiter(Rate.parse(settings.rate_per_ip)),
            RateLimiter(Rate.parse(settings.rate_per_key)),
        )
    return state.widget_limits


def _where(origin: str, page: str) -> str:
    """``shop.example/p/gx-220``: the host, and the page's path when the page is on that origin
    (never its query string or fragment, which may carry personal data)."""
    host = urlsplit(origin).hostname or origin
    parts = urlsplit(page)
    try:
        same = (
            bool(parts.netloc) and widget_keys.normalise_origin(f"{parts.scheme}://{parts.netloc}") == origin
        )
    except widget_keys.OriginError:
        same = False
    path = parts.path.rstrip("/") if same else ""
    return host + path


def _refused(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        {"detail": {"code": code, "message": message, "owner": None}}, status, headers=headers
    )


@router.post(
    "/widget/conversations",
    status_code=201,
    response_model=WidgetStarted,
    responses={429: {"description": "too many new conversations; see Retry-After"}},
)
async def start_conversation(request: Request, db: DB, body: WidgetStart) -> Response:
    """A page opens a conversation: needs a widget key and one of its origins; answered by
    the hub's product AI. Returns the buyer token (kept in the page's storage)."""
    origin_header = request.headers.get("origin", "")
    async with db.read() as session:
        key = await widget_keys.get_key(session, body.key)
    if key is None:
        return _refused(403, "unknown_widget_key", "this chat's widget key is not known to the hub")
    try:
        origin = widget_keys.normalise_origin(origin_header) if origin_header else ""
    except widget_keys.OriginError:
        origin = ""
    if not origin:
        return _refused(403, "origin_required", "open the chat from a web page (the request had no Origin)")
    if origin not in key.origins:
        return _refused(403, "origin_not_allowed", f"this chat is not enabled on {origin}")
    per_ip, per_key = _limiters(request.app)
    ip = request.client.host if request.client else "unknown"
    wait = max(per_ip.retry_after(ip), per_key.retry_after(key.key))
    if wait:
        return _refused(
            429,
            "rate_limited",
            f"too many new chats from here; try again in {wait} s",
            headers={"Retry-After": str(wait)},
        )
    per_ip.hit(ip)
    per_key.hit(key.key)
    spec = NewConversation(
        buyer=Buyer(name="Website visitor"),
        subject=f"Web chat on {_where(origin, body.page)}"[:300],
        ai_assistant=True,
    )
    async with db.write() as tx:
        conversation, token = await service.create_conversation(tx, spec=spec)
        await widget_keys.record_conversation(
            tx.session, conversation_id=conversation.id, key=key.key, origin=origin
        )
    started = WidgetStarted(
        conversation_id=conversation.id, buyer_token=token, last_event_id=await db.last_event_id()
    )
    return JSONResponse(started.model_dump(mode="json"), 201)


# --- what the buyer sees of the handoff ----------------------------------------------


class Specialist(BaseModel):
    name: str
    expertise: list[str] = Field(default_factory=list)


class BuyerHandoff(BaseModel):
    """The handoff as the buyer may see it: status, why (in plain words), and who joined."""

    status: str
    reason: str
    reason_text: str
    specialist: Specialist | None = None


class WidgetState(BaseModel):
    conversation_id: str
    last_event_id: int
    handoff: BuyerHandoff | None = None
    refs: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="message id -> what the AI based that turn on"
    )


def _skill_label(skill: str) -> str:
    return skill.replace("_", " ").replace("-", " ").capitalize()


@router.get("/widget/state", response_model=WidgetState)
async def state(db: DB, caller: Caller) -> WidgetState:
    """For a buyer token: the latest handoff of its conversation and the AI turns' references."""
    if caller.kind is not PrincipalKind.BUYER or caller.conversation_id is None:
        raise Forbidden("forbidden", "this needs a buyer token")
    conversation_id = caller.conversation_id
    head = await db.last_event_id()  # read first: anything later reaches the stream
    async with db.read() as session:
        row = await session.scalar(
            select(HandoffRow)
            .where(HandoffRow.conversation_id == conversation_id)
            .order_by(HandoffRow.created_at.desc())
            .limit(1)
        )
        handoff = None
        if row is not None:
            specialist = None
            if row.claimed_by and row.status == "claimed":
                agent = await session.get(AgentRow, row.claimed_by)
                if agent is not None:
                    skills = [] if agent.all_skills else list(agent.skills)
                    specialist = Specialist(
                        name=agent.display_name or agent.name, expertise=[_skill_label(s) for s in skills]
                    )
            handoff = BuyerHandoff(
                status=row.status, reason=row.reason, reason_text=row.summary, specialist=specialist
            )
        refs = {
            r.message_id: _for_page(r.data)
            for r in await session.scalars(
                select(MessageRefRow).where(MessageRefRow.conversation_id == conversation_id)
            )
        }
    return WidgetState(conversation_id=conversation_id, last_event_id=head, handoff=handoff, refs=refs)


def _for_page(data: dict[str, Any]) -> dict[str, Any]:
    """A turn's references as the page shows them: each source with ``url`` when its ref is
    a web address (else the page opens it through ``GET /v1/widget/documents``)."""
    sources = []
    for doc in data.get("sources", []):
        ref = str(doc.get("ref", ""))
        url = ref if ref.startswith(("https://", "http://")) else ""
        sources.append(
            {
                "title": doc.get("title", ""),
                "kind": doc.get("kind", ""),
                "sku": doc.get("sku", ""),
                "url": url,
            }
        )
    return {**data, "sources": sources}


# --- typing signals, both ways ---------------------------------------------------------

TYPING_MIN_SECONDS = 1.0  # one typing event per caller and conversation per second at most


class Typing(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _typing_gate(app: FastAPI) -> dict[tuple[str, str], float]:
    if getattr(app.state, "widget_typing", None) is None:
        app.state.widget_typing = {}
    return app.state.widget_typing


@router.post("/conversations/{conversation_id}/typing", status_code=204)
async def typing(request: Request, db: DB, caller: Caller, conversation_id: str, body: Typing) -> Response:
    """Say "I am typing" in a conversation: the buyer in its own, the specialist holding its
    handoff, or a bot. Appends a ``conversation.typing`` event (author_kind, name) that the
    buyer's stream carries too; more than one per second per caller is dropped."""
    seen = _typing_gate(request.app)
    now = time.monotonic()
    if now - seen.get((caller.key, conversation_id), -1e9) < TYPING_MIN_SECONDS:
        return Response(status_code=204)
    if caller.kind is PrincipalKind.BUYER and caller.conversation_id != conversation_id:
        raise Forbidden("forbidden", "this token belongs to another conversation")
    async with db.write() as tx:
        if await repo.conversation(tx.session, conversation_id) is None:
            raise NotFound("conversation", conversation_id)
        if caller.kind is PrincipalKind.AGENT:
            assert caller.agent is not None
            held = await repo.open_handoff(tx.session, conversation_id)
            if held is None or held.claimed_by != caller.agent.id:
                raise Conflict("not_claimed", "claim this conversation's handoff before typing to the buyer")
            kind, name = "agent", caller.agent.display_name or caller.agent.name
        elif caller.kind is PrincipalKind.BUYER:
            kind, name = "buyer", "buyer"
        else:
            kind, name = "ai", caller.name
        tx.emit(
            EventType.CONVERSATION_TYPING,
            {"author_kind": kind, "name": name},
            conversation_id=conversation_id,
        )
    if len(seen) > 50_000:
        seen.clear()
    seen[(caller.key, conversation_id)] = now
    return Response(status_code=204)


# --- source documents the AI cited ---------------------------------------------------


class CitedDocument(BaseModel):
    title: str
    kind: str
    sku: str
    text: str


@router.get("/widget/documents", response_model=CitedDocument)
async def cited_document(db: DB, caller: Caller, sku: str, title: str) -> CitedDocument:
    """For a buyer token: a catalog document the AI cited in this conversation (and only those)."""
    if caller.kind is not PrincipalKind.BUYER or caller.conversation_id is None:
        raise Forbidden("forbidden", "this needs a buyer token")
    async with db.read() as session:
        cited = False
        for data in await session.scalars(
            select(MessageRefRow.data).where(MessageRefRow.conversation_id == caller.conversation_id)
        ):
            if any(d.get("sku") == sku and d.get("title") == title for d in data.get("sources", [])):
                cited = True
                break
        if not cited:
            raise NotFound("cited document", title)
        docs, products = catalog_tables.documents, catalog_tables.products
        row = (
            await session.execute(
                select(docs.c.kind, docs.c.title, docs.c.body)
                .join(products, products.c.id == docs.c.product_id)
                .where(products.c.sku == sku, docs.c.title == title)
                .limit(1)
            )
        ).first()
    if row is None:
        raise NotFound("document", title)
    return CitedDocument(title=row.title, kind=row.kind, sku=sku, text=row.body)


# --- CORS for the buyer's routes -----------------------------------------------------


class WidgetCors:
    """CORS for pages using the widget, ahead of the whole app (the hub's fast routes too).

    Requests without an ``Origin`` header (the console, bots, same-origin GETs) pass
    untouched. For the buyer's routes, an origin that some widget key allows gets the
    CORS headers (preflights answered here); other origins get none, so the browser keeps
    the answer from the page. ``POST /v1/widget/conversations`` is readable from any
    origin: its refusal ("not enabled on this site") is what the widget shows."""

    def __init__(self, app: FastAPI, cache_seconds: float) -> None:
        self.app = app
        self.cache_seconds = cache_seconds
        self._origins: frozenset[str] = frozenset()
        self._loaded_at = float("-inf")

    async def allowed(self, origin: str) -> bool:
        age = time.monotonic() - self._loaded_at
        if age > self.cache_seconds or (origin not in self._origins and age > 0.5):
            try:
                async with self.app.state.db.read() as session:
                    self._origins = frozenset(await widget_keys.all_origins(session))
                self._loaded_at = time.monotonic()
            except Exception:  # the database is down: the route itself will answer 503
                return origin in self._origins
        return origin in self._origins

    async def gate(self, scope: Scope, send: Send) -> Send | None:
        """``send`` (wrapped to add CORS headers when due), or None when a preflight was answered."""
        origin = None
        for name, value in scope["headers"]:
            if name == b"origin":
                origin = value.decode("latin-1")
                break
        if origin is None or not _BUYER_PATHS.match(scope["path"]):
            return send
        ok = scope["path"] == START_PATH or await self.allowed(origin)
        headers = Headers(scope=scope)
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            await self._preflight(send, origin, ok, headers)
            return None
        if not ok:
            return send
        extra = [
            (b"access-control-allow-origin", origin.encode("latin-1")),
            (b"access-control-expose-headers", b"Retry-After"),
            (b"vary", b"Origin"),
        ]

        async def with_cors(message: ASGIMessage) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        return with_cors

    @staticmethod
    async def _preflight(send: Send, origin: str, ok: bool, headers: Headers) -> None:
        if not ok:
            body = (
                b'{"detail":{"code":"origin_not_allowed",'
                b'"message":"this origin may not use the chat","owner":null}}'
            )
            out = [(b"content-type", b"application/json"), (b"vary", b"Origin")]
            await send({"type": "http.response.start", "status": 403, "headers": out})
            await send({"type": "http.response.body", "body": body})
            return
        out = [
            (b"access-control-allow-origin", origin.encode("latin-1")),
            (b"access-control-allow-methods", b"GET, POST, OPTIONS"),
            (b"access-control-allow-headers", ALLOW_HEADERS.encode()),
            (b"access-control-max-age", b"600"),
            (b"vary", b"Origin"),
        ]
        if headers.get("access-control-request-private-network") == "true":
            out.append((b"access-control-allow-private-network", b"true"))
        await send({"type": "http.response.start", "status": 204, "headers": out})
        await send({"type": "http.response.body", "body": b""})


def install(app: FastAPI, responses: dict[int | str, dict]) -> None:
    """Add the widget's routes to the hub and put its CORS gate in front (``HubApp``)."""
    app.include_router(router, prefix="/v1", responses=responses)
    app.include_router(public)
    app.widget_cors = WidgetCors(app, WidgetSettings().origin_cache_seconds)  # type: ignore[attr-defined]
