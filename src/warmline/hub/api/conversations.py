"""Conversations and their messages."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, FastAPI, Header, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.routing import BaseRoute, Match
from starlette.types import Message as Message_
from starlette.types import Receive, Scope, Send

from warmline.domain.models import (
    AuthorKind,
    Conversation,
    ConversationCreated,
    Message,
    NewConversation,
    NewMessage,
)
from warmline.hub import service
from warmline.hub.auth import DB, BotOnly, Caller, bearer_token, cached_principal
from warmline.hub.idempotency import MAX_KEY_CHARS, request_hash, run_idempotent
from warmline.hub.principal import Principal
from warmline.hub.store.db import Database, Tx

router = APIRouter(tags=["conversations"])

IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", max_length=MAX_KEY_CHARS, description="retry-safe key, scoped to you"),
]


@router.post("/conversations", status_code=201, response_model=ConversationCreated)
async def create_conversation(
    request: Request, db: DB, bot: BotOnly, body: NewConversation, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """Open a conversation (optionally with its transcript so far); returns the buyer token."""

    created: list[str] = []

    async def action(tx: Tx) -> ConversationCreated:
        conversation, token = await service.create_conversation(tx, spec=body)
        created.append(conversation.id)
        return ConversationCreated(conversation=conversation, buyer_token=token)

    response = await run_idempotent(
        db,
        principal=bot,
        key=idempotency_key,
        fingerprint=request_hash("POST", request.url.path, body),
        status_code=201,
        action=action,
    )
    if created and body.ai_assistant and body.messages and body.messages[-1].author_kind is AuthorKind.BUYER:
        request.app.state.assistant.buyer_turn(created[0])
    return response


@router.get("/conversations/{conversation_id}", response_model=Conversation)
async def get_conversation(db: DB, caller: Caller, conversation_id: str) -> Conversation:
    """The transcript; buyers see only their own conversation, without internal notes."""
    async with db.read() as session:
        return await service.get_conversation(session, principal=caller, conversation_id=conversation_id)


@router.post("/conversations/{conversation_id}/messages", status_code=201, response_model=Message)
async def post_message(
    request: Request,
    db: DB,
    caller: Caller,
    conversation_id: str,
    body: NewMessage,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Add a message: agents where they hold the handoff, bots anywhere, buyers in their own."""
    return await _post_message(request, db, caller, conversation_id, body, idempotency_key)


async def _post_message(
    request: Request, db: Database, caller: Principal, conversation_id: str, body: NewMessage, key: str | None
) -> JSONResponse:
    """The route's work; FastMessageRoute calls it too, so both answer alike."""
    posted: list[service.PostedMessage] = []

    async def action(tx: Tx) -> Message:
        result = await service.add_message(tx, principal=caller, conversation_id=conversation_id, spec=body)
        posted.append(result)
        return result.message

    response = await run_idempotent(
        db,
        principal=caller,
        key=key,
        fingerprint=request_hash("POST", request.url.path, body),
        status_code=201,
        action=action,
    )
    if posted and posted[0].ai_assistant and posted[0].message.author_kind is AuthorKind.BUYER:
        # the hub's product AI answers AI-assisted conversations
        request.app.state.assistant.buyer_turn(conversation_id)
    return response


# --- the same POST without FastAPI's per-request machinery --------------------------------

_MESSAGES_PATH = re.compile(r"^/v1/conversations/([^/]+)/messages$")
_SKIP = "warmline.fast_route_declined"


class FastMessageRoute(BaseRoute):
    """``POST /v1/conversations/{id}/messages`` on its hot path, ahead of FastAPI's router.

    Buyers post every chat turn here, and FastAPI's dependency solving, body parsing and
    validation layers cost about as much CPU as the write itself. This route handles the
    common request (a known bearer token from the principal cache, a JSON body that
    validates, an Idempotency-Key of 1-200 characters or none) with the same code as the
    FastAPI route (``_post_message``); errors it raises go through the app's exception
    handlers like any route's. Anything else -- no or unknown token, a body that does not
    validate, an odd header -- is handed, body and all, to the FastAPI route, which stays
    the one in the OpenAPI document and answers those exactly as before.
    """

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.path = "/v1/conversations/{conversation_id}/messages"
        self.include_in_schema = False

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and scope["method"] == "POST" and not scope.get(_SKIP):
            found = _MESSAGES_PATH.match(scope["path"])
            if found:
                return Match.FULL, {"path_params": {"conversation_id": found.group(1)}}
        return Match.NONE, {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        chunks = []
        more = True
        while more:  # BodySizeLimit (outside) answers 413 when this grows too big
            message = await receive()
            if message["type"] != "http.request":
                return  # the client left
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message_:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        request = Request(scope, replay)
        work = self._prepare(request, body)
        if work is None:
            scope[_SKIP] = True
            await self.app.router(scope, replay, send)  # the FastAPI route answers
            return
        caller, spec, key = work
        conversation_id = scope["path_params"]["conversation_id"]
        response = await _post_message(request, request.app.state.db, caller, conversation_id, spec, key)
        await response(scope, replay, send)

    def _prepare(self, request: Request, body: bytes) -> tuple[Principal, NewMessage, str | None] | None:
        """Caller, message and key for the common case; None to let the FastAPI route decide."""
        headers = request.headers
        content_type = headers.get("content-type", "")
        if content_type.split(";", 1)[0].strip().lower() != "application/json":
            return None
        key = headers.get("idempotency-key")
        if key is not None and not 0 < len(key) <= MAX_KEY_CHARS:
            return None
        token = bearer_token(headers.get("authorization"))
        if token is None:
            return None
        caller = cached_principal(request.app, token)
        if caller is None:
            return None
        try:
            spec = NewMessage.model_validate_json(body)
        except ValidationError:
            return None
        return caller, spec, key


def install_fast_routes(app: FastAPI) -> None:
    """Put FastMessageRoute first in the app's router (call after the routers are included)."""
    app.router.routes.insert(0, FastMessageRoute(app))
