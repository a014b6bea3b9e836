"""The widget's tables, on the shared schema (migration 0006_widget creates them).

- ``widget_keys``: a public key per site, with the page origins allowed to use it.
- ``widget_conversations``: which key and origin opened a conversation.
- ``message_refs``: what the hub's product AI based a turn on (SKUs, source documents, the
  outcome and, for an escalation, the reason in plain words), for chips and links in the page.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from warmline.storage.schema import Base


class WidgetKeyRow(Base):
    __tablename__ = "widget_keys"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    label: Mapped[str] = mapped_column(String(100), default="")
    origins: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime]


class WidgetConversationRow(Base):
    __tablename__ = "widget_conversations"

    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    widget_key: Mapped[str] = mapped_column(String(64), index=True)
    origin: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime]


class MessageRefRow(Base):
    __tablename__ = "message_refs"

    # no foreign key to messages: on PostgreSQL the message row goes out in the commit script
    message_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
