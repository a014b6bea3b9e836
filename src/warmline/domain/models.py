"""Conversations, messages, handoffs, agents and events: the hub's wire format.

Pure pydantic, no I/O. The hub serialises these; the console parses them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool

from warmline.domain.packet import HandoffPacket, Priority, ReasonCategory

MAX_MESSAGE_CHARS = 8000

# Timestamps a client sends must fall in this range (UTC; no offset given = UTC): outside it
# PostgreSQL stores e.g. year 1 at +05:00 as 1 BC, which no reader can turn back into a
# datetime. docs/api.md, "Limits".
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(3000, 1, 1, tzinfo=UTC)


def _sane_time(value: datetime) -> datetime:
    try:
        utc = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    except OverflowError:  # (year 1 at +05:00 has no UTC equivalent in Python's range)
        utc = EARLIEST.replace(year=1)
    if not EARLIEST <= utc < LATEST:
        raise ValueError(f"must be between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d} (UTC)")
    return value


Timestamp = Annotated[datetime, AfterValidator(_sane_time)]


class AuthorKind(StrEnum):
    BUYER = "buyer"
    AI = "ai"
    AGENT = "agent"
    SYSTEM = "system"


class HandoffStatus(StrEnum):
    QUEUED = "queued"
    CLAIMED = "claimed"
    RESOLVED = "resolved"


class PrincipalKind(StrEnum):
    AGENT = "agent"
    BOT = "bot"
    BUYER = "buyer"


class AgentRef(BaseModel):
    id: str
    name: str


class Agent(BaseModel):
    id: str
    name: str
    display_name: str = ""
    skills: list[str] = Field(default_factory=list)
    all_skills: bool = False
    created_at: datetime
    max_active: int | None = Field(
        default=None, description="handoffs this agent may hold at once; null: the workspace default"
    )

    def can_take(self, required: list[str]) -> bool:
        """True when this agent has every skill the handoff requires."""
        return self.all_skills or set(required) <= set(self.skills)


class Buyer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="", max_length=200)
    company: str = Field(default="", max_length=200)
    email: str = Field(default="", max_length=200)
    tier: str = Field(default="standard", max_length=50)
    region: str = Field(default="", max_length=100)


class Message(BaseModel):
    id: str
    conversation_id: str
    seq: int = Field(description="1-based position in the transcript")
    author_kind: AuthorKind
    author_name: str = ""
    agent_id: str | None = None
    body: str
    internal: bool = Field(default=False, description="internal note: never shown to the buyer")
    assist_job_id: str | None = Field(default=None, description="the assistant job this note records, if any")
    created_at: datetime


class Conversation(BaseModel):
    id: str
    buyer: Buyer
    subject: str = ""
    ai_assistant: bool = Field(default=False, description="the hub's product AI answers buyer turns")
    created_at: datetime
    messages: list[Message] = Field(default_factory=list)


class HandoffSummary(BaseModel):
    """A queue row: everything the queue shows, without the transcript."""

    id: str
    conversation_id: str
    status: HandoffStatus
    priority: Priority
    reason: ReasonCategory
    summary: str
    product_family: str
    required_skills: list[str]
    buyer_company: str
    created_at: datetime
    claimed_by: AgentRef | None = None
    claimed_at: datetime | None = None
    resolved_at: datetime | None = None
    first_reply_at: datetime | None = Field(
        default=None, description="the holder's first reply to the buyer (the reply timeout stops)"
    )
    requeued_at: datetime | None = Field(
        default=None, description="taken back by the reply timeout (front of its priority until claimed)"
    )
    buyer_waiting_since: datetime | None = Field(
        default=None,
        description="GET /v1/handoffs: the oldest buyer message unanswered for idle_timeout_s or longer",
    )


class Handoff(HandoffSummary):
    packet: HandoffPacket


class HandoffDetail(Handoff):
    conversation: Conversation


# --- requests -----------------------------------------------------------------------


class NewMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)
    author_kind: AuthorKind | None = Field(
        default=None, description="bots may post as ai or system; agents and buyers are fixed"
    )
    author_name: str | None = Field(default=None, max_length=200)
    internal: StrictBool = Field(default=False, description='true or false only (not "yes")')


class TranscriptMessage(BaseModel):
    """A message that already happened, carried in with a new conversation or handoff."""

    model_config = ConfigDict(extra="forbid")

    author_kind: AuthorKind
    author_name: str = Field(default="", max_length=200)
    body: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)
    created_at: Timestamp | None = None


class NewConversation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    buyer: Buyer = Field(default_factory=Buyer)
    subject: str = Field(default="", max_length=300)
    messages: list[TranscriptMessage] = Field(default_factory=list, max_length=500)
    ai_assistant: StrictBool = Field(
        default=False,
        description=(
            "let the hub's own product AI answer each buyer turn (answer, clarify, next step) "
            "and hand off when the escalation engine says so"
        ),
    )


class NewHandoff(BaseModel):
    """An external bot hands off a conversation: either an existing one or a new transcript."""

    model_config = ConfigDict(extra="forbid")

    conversation_id: str | None = None
    conversation: NewConversation | None = None
    packet: HandoffPacket
    required_skills: list[str] | None = Field(
        default=None, description="inferred from the packet when left out"
    )
    priority: Priority | None = Field(default=None, description="inferred from the packet when left out")
    announce: StrictBool = Field(
        default=True, description="post a system message telling the buyer a specialist is joining"
    )
    escalated_at: Timestamp | None = Field(
        default=None,
        description="when the bot escalated (queue age counts from it); defaults to now, never in the future",
    )


class NewAgent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.@-]+$")
    display_name: str = Field(default="", max_length=200)
    skills: list[str] = Field(default_factory=list)
    max_active: int | None = Field(
        default=None,
        ge=0,
        le=1000,
        description="handoffs held at once (0: no limit; null: the workspace default)",
    )


# --- responses ----------------------------------------------------------------------


class HandoffPage(BaseModel):
    items: list[HandoffSummary]
    last_event_id: int = Field(description="stream events after this id to stay current")


class ConversationCreated(BaseModel):
    conversation: Conversation
    buyer_token: str


class HandoffCreated(BaseModel):
    handoff: Handoff
    buyer_token: str | None = Field(default=None, description="set when the hub created the conversation")


class AgentCreated(BaseModel):
    agent: Agent
    token: str


class Me(BaseModel):
    kind: PrincipalKind
    agent: Agent | None = None
    conversation_id: str | None = None
    name: str = ""


# --- events -------------------------------------------------------------------------


class EventType(StrEnum):
    CONVERSATION_CREATED = "conversation.created"
    MESSAGE_CREATED = "message.created"
    HANDOFF_CREATED = "handoff.created"
    HANDOFF_CLAIMED = "handoff.claimed"
    HANDOFF_RELEASED = "handoff.released"
    HANDOFF_RESOLVED = "handoff.resolved"
    HANDOFF_UPDATED = "handoff.updated"  # the packet or priority changed (the buyer added details)
    AGENT_CREATED = "agent.created"
    ASSIST_STARTED = "assist.started"
    ASSIST_PROGRESS = "assist.progress"
    ASSIST_COMPLETED = "assist.completed"
    ASSIST_FAILED = "assist.failed"
    ASSIST_CANCELLED = "assist.cancelled"
    CONVERSATION_TYPING = "conversation.typing"  # someone is typing; data: author_kind, name
    # team work (issue 12; warmline.hub.assignment, warmline.hub.team)
    HANDOFF_REQUEUED = "handoff.requeued"  # reply timeout: from_agent, held_s
    HANDOFF_CLAIM_EXPIRING = "handoff.claim_expiring"  # agent_id, seconds_left
    HANDOFF_TRANSFERRED = "handoff.transferred"  # from/to agent or to_skills, note
    AGENT_MENTIONED = "agent.mentioned"  # agent_id, message (an @mention in a note)
    PRESENCE = "presence"  # agent_id, status: online / away / offline
    VIEWING = "viewing"  # agent_id, handoff_id (or null)


class Event(BaseModel):
    """One entry of the hub's append-only event log; ``id`` increases strictly."""

    id: int
    type: EventType
    created_at: datetime
    conversation_id: str | None = None
    handoff_id: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)

    def message(self) -> Message:
        return Message.model_validate(self.data["message"])

    def handoff(self) -> HandoffSummary:
        return HandoffSummary.model_validate(self.data["handoff"])


class ErrorDetail(BaseModel):
    """The body of 4xx answers other than 422: a code, a sentence, and who holds a claim."""

    code: str
    message: str
    owner: AgentRef | None = None


class CapacityDetail(ErrorDetail):
    """409 ``capacity_reached``: the agent already holds ``held`` of ``limit`` handoffs."""

    held: int
    limit: int
