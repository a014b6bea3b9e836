"""Conversations and their messages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse

from warmline.domain.models import (
    AuthorKind,
    Conversation,
    ConversationCreated,
    Message,
    NewConversation,
    NewMessage,
)
from warmline.hub import service
from warmline.hub.auth import DB, BotOnly, Caller
from warmline.hub.idempotency import MAX_KEY_CHARS, request_hash, run_idempotent
from warmline.hub.store.db import Tx

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

    posted: list[service.PostedMessage] = []

    async def action(tx: Tx) -> Message:
        result = await service.add_message(tx, principal=caller, conversation_id=conversation_id, spec=body)
        posted.append(result)
        return result.message

    response = await run_idempotent(
        db,
        principal=caller,
        key=idempotency_key,
        fingerprint=request_hash("POST", request.url.path, body),
        status_code=201,
        action=action,
    )
    if posted and posted[0].ai_assistant and posted[0].message.author_kind is AuthorKind.BUYER:
        # the hub's product AI answers AI-assisted conversations
        request.app.state.assistant.buyer_turn(conversation_id)
    return response
