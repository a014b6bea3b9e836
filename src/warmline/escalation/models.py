"""The escalation engine's inputs and outputs: transcript turns in, a Decision out."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from warmline.domain.models import AuthorKind
from warmline.domain.packet import AccountFacts, HandoffPacket, Priority, ReasonCategory, SourceDocument
from warmline.escalation.signals import Signal


class Outcome(StrEnum):
    """What the AI does with a buyer turn."""

    ANSWER = "answer"
    CLARIFY = "clarify"
    NEXT_STEP = "next_step"
    ESCALATE = "escalate"


class Turn(BaseModel):
    """One transcript message as the engine needs it (a hub ``Message`` converts to this)."""

    model_config = ConfigDict(extra="ignore")

    seq: int = Field(ge=1, description="1-based position in the conversation")
    author_kind: AuthorKind
    body: str = Field(min_length=1, max_length=8000)
    internal: bool = Field(default=False, description="internal notes are ignored")

    @classmethod
    def coerce(cls, value: Any) -> Turn:
        """Accept a Turn, a hub Message, a TranscriptTurn or a plain dict."""
        if isinstance(value, Turn):
            return value
        if isinstance(value, dict):
            return cls.model_validate(value)
        return cls(
            seq=value.seq,
            author_kind=value.author_kind,
            body=value.body,
            internal=bool(getattr(value, "internal", False)),
        )


class Decision(BaseModel):
    """The engine's choice for one buyer turn, with the signals that drove it."""

    outcome: Outcome
    reason: ReasonCategory | None = None
    secondary_reasons: list[ReasonCategory] = Field(
        default_factory=list, description="other reasons that also applied, in precedence order"
    )
    sub_reason: str = ""
    confidence: float | None = Field(
        default=None, description="how sure the engine is of this outcome (rule cue and model combined)"
    )
    intent: str = "other"
    turn: int | None = Field(default=None, description="seq of the buyer turn this decides")
    signals: list[Signal] = Field(default_factory=list)
    reply: str = Field(description="what the AI says to the buyer")
    sources: list[SourceDocument] = Field(default_factory=list)
    packet: HandoffPacket | None = None
    required_skills: list[str] = Field(default_factory=list)
    priority: Priority | None = None

    @property
    def escalates(self) -> bool:
        return self.outcome is Outcome.ESCALATE


class DecideRequest(BaseModel):
    """``POST /v1/escalation/decide``: a transcript and the buyer's account."""

    model_config = ConfigDict(extra="forbid")

    turns: list[Turn] = Field(min_length=1, max_length=500)
    account: AccountFacts = Field(default_factory=AccountFacts)
