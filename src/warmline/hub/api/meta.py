"""Health, the packet schema and `me`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from warmline.domain.models import Me
from warmline.domain.packet import packet_json_schema
from warmline.hub.auth import Caller

router = APIRouter(tags=["meta"])


@router.get("/health")
async def health() -> dict[str, str]:
    """Liveness probe (no token needed)."""
    return {"status": "ok"}


@router.get("/schema/packet")
async def packet_schema() -> dict[str, Any]:
    """The handoff packet's JSON Schema, for bots building packets."""
    return packet_json_schema()


@router.get("/me", response_model=Me)
async def me(principal: Caller) -> Me:
    """Who this token is: kind, agent (with skills) or the buyer's conversation."""
    return Me(
        kind=principal.kind,
        agent=principal.agent,
        conversation_id=principal.conversation_id,
        name=principal.name,
    )
