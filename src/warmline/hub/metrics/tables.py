"""The metrics tables (migration 0009_metrics): one facts row per handoff, kept current in the
transactions that write the handoff's events, and the buyer messages that repeated the packet.

No foreign keys: the facts outlive the event log (trimmed by retention) and stay as the
team's record even when a conversation is deleted.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Index, Integer, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column

from warmline.storage.schema import Base


class HandoffFactRow(Base):
    """What the metrics need about one handoff, with its durations in whole seconds."""

    __tablename__ = "handoff_facts"
    __table_args__ = (Index("ix_handoff_facts_escalated_at", "escalated_at"),)

    handoff_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(40), index=True)
    escalated_at: Mapped[datetime]
    escalated_day: Mapped[str] = mapped_column(String(10))  # UTC date, YYYY-MM-DD
    escalated_seq: Mapped[int] = mapped_column(Integer, default=0)  # last message before it
    reason: Mapped[str] = mapped_column(String(40))
    priority: Mapped[str] = mapped_column(String(10))
    skill: Mapped[str] = mapped_column(String(40), default="")  # the first required skill
    skills: Mapped[list[str]] = mapped_column(JSON)
    high_intent: Mapped[bool] = mapped_column(Boolean, default=False)
    claimed_at: Mapped[datetime | None]  # the first claim
    agent_id: Mapped[str | None] = mapped_column(String(40))  # the latest holder (the resolver)
    first_reply_at: Mapped[datetime | None]
    first_reply_seconds: Mapped[int | None] = mapped_column(Integer)
    ai_assisted: Mapped[bool | None] = mapped_column(Boolean)  # decided at first reply or resolve
    resolved_at: Mapped[datetime | None]
    resolution_seconds: Mapped[int | None] = mapped_column(Integer)
    requeues: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    transfers: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    outcome: Mapped[str | None] = mapped_column(String(20))
    unnecessary: Mapped[bool | None] = mapped_column(Boolean)
    late: Mapped[bool | None] = mapped_column(Boolean)
    late_turn: Mapped[int | None] = mapped_column(Integer)
    buyer_repeated: Mapped[bool | None] = mapped_column(Boolean)  # the specialist's tick
    repeat_detected: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    reviewed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    rating: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str | None] = mapped_column(Text)
    rated_at: Mapped[datetime | None]


class HandoffRepeatRow(Base):
    """A buyer message after the escalation that restated something already in the packet."""

    __tablename__ = "handoff_repeats"
    __table_args__ = (Index("ix_handoff_repeats_handoff", "handoff_id", "message_seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    handoff_id: Mapped[str] = mapped_column(String(40))
    message_seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))  # sku | constraint | quantity | goal
    packet_item: Mapped[str] = mapped_column(String(300))  # what the packet already had
    found: Mapped[str] = mapped_column(String(300))  # the words of the message that restated it
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
