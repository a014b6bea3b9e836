"""Conversations and their messages."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, FastAPI, Header, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.types import Message as Message_

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
from warmline.hub.errors import answer_error
from warmline.hub.idempotency import MAX_KEY_CHARS, request_hash, run_idempotent
from warmline.hub.inputs import needs_check
from warmline.hub.middleware import reject_too_large
from warmline.hub.principal import Principal
from warmline.hub.store.db import Database, StaleSeq, Tx, uncached

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
    try:
        return await _post_message_once(request, db, caller, conversation_id, body, key)
    except StaleSeq:  # the cached position was taken meanwhile; nothing was written
        with uncached():
            return await _post_message_once(request, db, caller, conversation_id, body, key)


async def _post_message_once(
    request: Request, db: Database, caller: Principal, conversation_id: str, body: NewMessage, key: str | None
) -> JSONResponse:
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
    if posted and posted[0].message.author_kind is AuthorKind.BUYER:
        packets = getattr(request.app.state, "packets", None)
        if packets is not None:  # an open handoff's packet follows what the buyer adds
            packets.buyer_turn(conversation_id)
    return response


# --- the same POST without FastAPI's per-request machinery --------------------------------

_MESSAGES_PATH = re.compile(r"^/v1/conversations/([^/]+)/messages$")


class FastMessageRoute:
    """``POST /v1/conversations/{id}/messages`` on its hot path, ahead of FastAPI entirely.

    Buyers post every chat turn here, and FastAPI's middleware, dependency solving, body
    parsing and validation layers cost about as much CPU as the write itself. ``HubApp``
    hands this route the common request (a known bearer token from the principal cache, a
    JSON body that validates, an Idempotency-Key of 1-200 characters or none) before its
    middleware stack; it runs the same code as the FastAPI route (``_post_message``), and
    errors it raises are answered by the app's own exception handlers. It enforces the
    body limit itself (413, as ``BodySizeLimit`` does). Anything else -- no or unknown
    token, a body that does not validate, an odd header -- goes, body and all, through the
    whole app to the FastAPI route, which stays the one in the OpenAPI document and answers
    those exactly as before.
    """

    def __init__(self, app: FastAPI, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    @staticmethod
    def match(scope: Scope) -> str | None:
        """The conversation id when ``scope`` is a message POST (else None)."""
        if scope["method"] == "POST":
            found = _MESSAGES_PATH.match(scope["path"])
            if found and "\x00" not in found.group(1):  # (a NUL id: the app's InputGuard answers)
                return found.group(1)
        return None

    async def handle(
        self, scope: Scope, receive: Receive, send: Send, conversation_id: str, whole_app: ASGIApp
    ) -> None:
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await reject_too_large(send, self.max_bytes)
                return
        chunks = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client left
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await reject_too_large(send, self.max_bytes)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message_:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        scope["app"] = self.app
        request = Request(scope, replay)
        work = self._prepare(request, body)
        if work is None:
            await whole_app(scope, replay, send)  # the FastAPI route answers
            return
        caller, spec, key = work
        try:
            response = await _post_message(request, self.app.state.db, caller, conversation_id, spec, key)
        except Exception as exc:
            response = await answer_error(self.app, request, exc)
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
        if needs_check(body):  # (NUL, surrogates, odd numbers: the app's InputGuard answers)
            return None
        try:
            spec = NewMessage.model_validate_json(body)
        except ValidationError:
            return None
        return caller, spec, key
