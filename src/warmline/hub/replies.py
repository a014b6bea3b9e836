"""Workspace-wide saved replies (issue 12 item 6): shortcut + body with placeholders
(``{buyer_first_name}``, ``{sku}``, ``{agent_name}``, ``{company}``), filled by the console
from the packet. The store and ``/v1/replies``; the CLI is ``warmline.hub.replies_commands``."""

from __future__ import annotations

import string
from datetime import datetime

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from warmline.domain.models import MAX_MESSAGE_CHARS
from warmline.hub.auth import DB, AgentOnly, AgentOrBot
from warmline.hub.errors import Conflict, NotFound, field_error
from warmline.hub.store.db import Tx, utcnow
from warmline.hub.store.tables import SavedReplyRow

PLACEHOLDERS = ("buyer_first_name", "sku", "agent_name", "company")
SHORTCUT = r"^[a-z0-9][a-z0-9_-]{0,59}$"


class NewReply(BaseModel):
    model_config = ConfigDict(extra="forbid")

    shortcut: str = Field(pattern=SHORTCUT, description="typed after # in the composer")
    body: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)


class SavedReply(BaseModel):
    id: str
    shortcut: str
    body: str
    placeholders: list[str]
    created_by: str = ""
    created_at: datetime


def placeholders_in(body: str, loc: tuple[str | int, ...] = ("body", "body")) -> list[str]:
    """The placeholders a body uses (422 on an unknown one or a stray brace)."""
    found: list[str] = []
    try:
        parsed = list(string.Formatter().parse(body))
    except ValueError as exc:
        raise field_error(loc, f"{exc} (write {{{{ for a literal brace)", value=body) from None
    for _literal, name, _spec, _conv in parsed:
        if name is None:
            continue
        if name not in PLACEHOLDERS:
            raise field_error(
                loc, f"unknown placeholder {{{name}}}; use {', '.join(PLACEHOLDERS)}", value=body
            )
        if name not in found:
            found.append(name)
    return found


def _model(row: SavedReplyRow) -> SavedReply:
    return SavedReply(
        id=row.id,
        shortcut=row.shortcut,
        body=row.body,
        placeholders=placeholders_in(row.body),
        created_by=row.created_by,
        created_at=row.created_at,
    )


async def list_replies(session: AsyncSession) -> list[SavedReply]:
    rows = (await session.scalars(select(SavedReplyRow).order_by(SavedReplyRow.shortcut))).all()
    return [_model(r) for r in rows]


async def add_reply(tx: Tx, *, spec: NewReply, created_by: str) -> SavedReply:
    from warmline.hub.service.accounts import new_id

    placeholders_in(spec.body)
    row = SavedReplyRow(
        id=new_id("rpl"), shortcut=spec.shortcut, body=spec.body, created_by=created_by, created_at=utcnow()
    )
    tx.session.add(row)
    try:
        await tx.session.flush()
    except IntegrityError as exc:
        raise Conflict("shortcut_taken", f"a saved reply #{spec.shortcut} already exists") from exc
    return _model(row)


async def remove_reply(tx: Tx, *, shortcut: str) -> None:
    result = await tx.session.execute(delete(SavedReplyRow).where(SavedReplyRow.shortcut == shortcut))
    if not result.rowcount:  # type: ignore[attr-defined]
        raise NotFound("saved reply", shortcut)


# --- routes ---------------------------------------------------------------------------------

router = APIRouter(tags=["replies"])


@router.get("/replies", response_model=list[SavedReply])
async def get_replies(db: DB, _caller: AgentOrBot) -> list[SavedReply]:
    """Every saved reply, by shortcut."""
    async with db.read() as session:
        return await list_replies(session)


@router.post(
    "/replies", status_code=201, response_model=SavedReply, responses={409: {"description": "shortcut_taken"}}
)
async def post_reply(db: DB, agent: AgentOnly, body: NewReply) -> SavedReply:
    """Save a reply for the whole workspace (422 on an unknown placeholder)."""
    async with db.write() as tx:
        return await add_reply(tx, spec=body, created_by=agent.display_name or agent.name)


@router.delete("/replies/{shortcut}", status_code=204)
async def delete_reply(db: DB, _agent: AgentOnly, shortcut: str) -> Response:
    """Remove a saved reply (404 when there is none)."""
    async with db.write() as tx:
        await remove_reply(tx, shortcut=shortcut)
    return Response(status_code=204)
