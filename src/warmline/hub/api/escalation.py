"""`POST /v1/escalation/decide`: the escalation engine for external bots.

A bot posts the transcript so far and the buyer's account; the hub answers with the
engine's Decision (outcome, reason, signals, reply, packet, skills, priority), grounded
in the hub's catalog (the engine's text work runs off the event loop, within a per-message
budget). Deciding stores nothing: the bot then posts the reply, or hands
off with ``POST /v1/handoffs`` using the returned packet.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError

from warmline.catalog.service import CatalogService
from warmline.escalation.engine import EscalationEngine
from warmline.escalation.judge import LLMJudge
from warmline.escalation.llm import ChatPhraser
from warmline.escalation.models import DecideRequest, Decision
from warmline.hub.auth import DB, AgentOrBot

router = APIRouter(tags=["escalation"])


def _engine(request: Request, db: DB) -> EscalationEngine:
    """One engine per app and database (the catalog lives in the hub's database)."""
    cached = getattr(request.app.state, "escalation", None)
    if cached is None or cached[0] is not db.engine:
        # the engine reads buyer text in a worker thread with a time budget ([engine] turn_budget_ms),
        # so a long message never stalls this loop; the judge is used only if the policy enables it
        engine = EscalationEngine(
            catalog=CatalogService(db.engine), llm=ChatPhraser.from_settings(), judge=LLMJudge.from_settings()
        )
        cached = (db.engine, engine)
        request.app.state.escalation = cached
    return cached[1]


@router.post("/escalation/decide", response_model=Decision)
async def decide(request: Request, db: DB, _caller: AgentOrBot, body: DecideRequest) -> Decision:
    """Decide what the AI does with the last buyer turn: answer, clarify, next step or escalate."""
    seqs = [t.seq for t in body.turns]
    if len(set(seqs)) != len(seqs):
        raise RequestValidationError([_error("turn seq values must be unique")])
    try:
        return await _engine(request, db).decide(body.turns, body.account)
    except ValueError as exc:
        raise RequestValidationError([_error(str(exc))]) from exc


def _error(message: str) -> dict[str, object]:
    return {"loc": ("body", "turns"), "msg": message, "type": "value_error"}
