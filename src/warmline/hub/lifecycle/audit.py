"""The append-only audit log: who revoked, rotated, erased, restored or changed settings.

Rows are only ever inserted (the migration adds triggers refusing UPDATE and DELETE on
both engines); ``warmline audit`` reads them."""

from __future__ import annotations

import getpass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from warmline.hub.lifecycle.tables import AuditRow
from warmline.hub.store.db import utcnow


def cli_actor() -> str:
    """Who runs a CLI command: ``cli:<OS user>``."""
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:
        return "cli:unknown"


async def record(
    session: AsyncSession, *, actor: str, action: str, target: str = "", detail: dict[str, Any] | None = None
) -> None:
    """Append one entry (in the caller's transaction: it is kept only if the action is)."""
    session.add(AuditRow(at=utcnow(), actor=actor, action=action, target=target, detail=detail or {}))
    await session.flush()


async def entries(session: AsyncSession, *, after: int = 0, limit: int = 1000) -> list[AuditRow]:
    rows = await session.scalars(
        select(AuditRow).where(AuditRow.id > after).order_by(AuditRow.id).limit(limit)
    )
    return list(rows)
