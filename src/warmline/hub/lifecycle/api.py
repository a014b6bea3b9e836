"""``DELETE /v1/conversations/{id}/personal-data``: erase a buyer's personal data
(warmline.hub.lifecycle.erasure), for a specialist with all skills."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel

from warmline.hub.auth import DB, AgentOnly
from warmline.hub.errors import Forbidden
from warmline.hub.lifecycle import erasure

router = APIRouter(tags=["lifecycle"])


class Erased(BaseModel):
    """What was replaced by the placeholder (rows are kept: counts and timings stay)."""

    conversation_id: str
    messages: int
    handoffs: int
    events: int
    assist_jobs: int
    idempotency_keys: int
    buyer_tokens: int


@router.delete("/conversations/{conversation_id}/personal-data", response_model=Erased)
async def erase_personal_data(request: Request, db: DB, agent: AgentOnly, conversation_id: str) -> Erased:
    """Replace the buyer's name, email, message bodies, notes and packet text with a
    placeholder, everywhere the hub keeps them; audited. Needs a specialist with all skills."""
    if not agent.all_skills:
        raise Forbidden("forbidden", "erasing personal data needs a specialist with all skills")
    async with db.write() as tx:
        done = await erasure.erase_conversation(
            tx, conversation_id=conversation_id, actor=f"agent:{agent.name}"
        )
    # this instance at once; the others within revocation_poll_s (warmline.hub.lifecycle.runner)
    await erasure.redact_feed(request.app.state.feed, {conversation_id})
    request.app.state.principals.clear()
    return Erased(conversation_id=conversation_id, **done)
