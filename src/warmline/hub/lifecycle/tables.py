"""The lifecycle's tables (migration 0008_lifecycle): ``hub_state``, a few named values the
hub instances share (the sealing key, how far the event log was trimmed, the revocation
counter), and ``audit_log``, the append-only record of revocations, rotations, erasures
and settings changes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from warmline.storage.schema import Base, EventId


class HubStateRow(Base):
    __tablename__ = "hub_state"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]


class AuditRow(Base):
    """One audited action; the migration adds triggers refusing UPDATE and DELETE."""

    __tablename__ = "audit_log"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(EventId, primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(200))  # "cli:<os user>", "agent:<name>", "hub"
    action: Mapped[str] = mapped_column(String(40))  # revoke, rotate, erase, settings, restore...
    target: Mapped[str] = mapped_column(String(200), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
