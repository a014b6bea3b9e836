"""The hub's tables (SQLAlchemy 2 declarative), registered on the shared schema of
``warmline.storage.schema``; migrations 0001_initial, 0003 and 0004 create them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from warmline.storage.schema import Base, EventId

OPEN_STATUSES = ("queued", "claimed")


def core(row: type[Base]) -> Table:
    """The Core table behind an ORM class (``__table__``, which typing only knows as a FromClause)."""
    return cast(Table, row.__table__)


class AgentRow(Base):
    __tablename__ = "agents"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    skills: Mapped[list[str]] = mapped_column(JSON)
    all_skills: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    # handoffs this agent may hold at once (None: the workspace's max_active_per_agent; 0010_team)
    max_active: Mapped[int | None] = mapped_column(Integer)


class TokenRow(Base):
    __tablename__ = "tokens"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(200), default="")
    agent_id: Mapped[str | None] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    conversation_id: Mapped[str | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime]
    # revoked, rotated out or expired after this (None: valid until revoked; 0008_lifecycle)
    expires_at: Mapped[datetime | None]


class ConversationRow(Base):
    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    subject: Mapped[str] = mapped_column(String(300), default="")
    buyer: Mapped[dict[str, Any]] = mapped_column(JSON)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    ai_assistant: Mapped[bool] = mapped_column(default=False, server_default=false())


class MessageRow(Base):
    __tablename__ = "messages"
    __table_args__ = (UniqueConstraint("conversation_id", "seq", name="uq_messages_conversation_seq"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    author_kind: Mapped[str] = mapped_column(String(10))
    author_name: Mapped[str] = mapped_column(String(200), default="")
    agent_id: Mapped[str | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    assist_job_id: Mapped[str | None] = mapped_column(String(40))


class HandoffRow(Base):
    __tablename__ = "handoffs"
    __table_args__ = (
        Index("ix_handoffs_queue", "status", "priority_rank", "created_at"),
        # At most one open handoff per conversation, enforced by the database (races included).
        Index(
            "uq_handoffs_open_per_conversation",
            "conversation_id",
            unique=True,
            sqlite_where=text("status IN ('queued', 'claimed')"),
            postgresql_where=text("status IN ('queued', 'claimed')"),
        ),
        # 0010_team: what an agent holds (the capacity check inside the claim's UPDATE), and
        # the reply-timeout sweep's range scan (claimed, no first reply yet, claimed before ...)
        Index("ix_handoffs_holder", "claimed_by", "status"),
        Index("ix_handoffs_reply_due", "status", "first_reply_at", "claimed_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(10))
    priority: Mapped[str] = mapped_column(String(10))
    priority_rank: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(40))
    summary: Mapped[str] = mapped_column(Text)
    packet: Mapped[dict[str, Any]] = mapped_column(JSON)
    required_skills: Mapped[list[str]] = mapped_column(JSON)
    product_family: Mapped[str] = mapped_column(String(100), default="")
    buyer_company: Mapped[str] = mapped_column(String(200), default="")
    search_text: Mapped[str] = mapped_column(Text, default="")
    claimed_by: Mapped[str | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    claimed_at: Mapped[datetime | None]
    # 0010_team: the holder's first reply to the buyer since the claim (the reply timeout
    # stops); a reply-timeout requeue's time and previous holder (front of its priority)
    first_reply_at: Mapped[datetime | None]
    requeued_at: Mapped[datetime | None]
    requeued_from: Mapped[str | None] = mapped_column(String(40))
    reply_warned_at: Mapped[datetime | None]  # handoff.claim_expiring was sent for this claim
    resolved_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class EventRow(Base):
    __tablename__ = "events"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(EventId, primary_key=True, autoincrement=True)
    type: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime]
    conversation_id: Mapped[str | None] = mapped_column(String(40), index=True)
    handoff_id: Mapped[str | None] = mapped_column(String(40))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


class AssistJobRow(Base):
    """A background assistant job on a handoff (migration 0004_assist)."""

    __tablename__ = "assist_jobs"
    __table_args__ = (
        Index("ix_assist_jobs_handoff", "handoff_id", "created_at"),
        Index("ix_assist_jobs_status", "status"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    handoff_id: Mapped[str] = mapped_column(ForeignKey("handoffs.id", ondelete="CASCADE"))
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10))
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    requested_by: Mapped[str] = mapped_column(String(40))  # agent id (kept if the agent is deleted)
    requested_by_name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    progress: Mapped[int] = mapped_column(Integer, default=0)  # per mille, 0..1000
    stage: Mapped[str] = mapped_column(String(200), default="")
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    note_message_id: Mapped[str | None] = mapped_column(String(40))


class SavedReplyRow(Base):
    """A workspace-wide saved reply with {placeholders} (migration 0010_team)."""

    __tablename__ = "saved_replies"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    shortcut: Mapped[str] = mapped_column(String(60), unique=True)
    body: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime]


class IdempotencyRow(Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("principal", "key", name="uq_idempotency_keys_principal_key"),)

    id: Mapped[int] = mapped_column(EventId, primary_key=True, autoincrement=True)
    principal: Mapped[str] = mapped_column(String(80))
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(index=True)  # the expiry sweep's index (0008)
