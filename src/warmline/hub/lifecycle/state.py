"""Named values in ``hub_state`` shared by every hub instance: read, set, bump a counter."""

from __future__ import annotations

from sqlalchemy import BigInteger, Text, cast, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from warmline.hub.lifecycle.tables import HubStateRow
from warmline.hub.store.db import utcnow

# How far the event log was trimmed: every event with id <= this may be gone.
EVENTS_TRIMMED_THROUGH = "events_trimmed_through"
# Bumped by every revocation, rotation and erasure: instances watch it (runner.Watch).
REVOCATIONS = "revocations"
# The lifecycle settings the last hub started with (a change is audited).
SETTINGS = "lifecycle_settings"


def _insert(session: AsyncSession):  # type: ignore[no-untyped-def]
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    return (sqlite_insert if dialect == "sqlite" else pg_insert)(HubStateRow)


async def get(session: AsyncSession, name: str) -> str | None:
    return await session.scalar(select(HubStateRow.value).where(HubStateRow.name == name))


async def get_int(session: AsyncSession, name: str) -> int:
    value = await get(session, name)
    return int(value) if value else 0


async def put(session: AsyncSession, name: str, value: str) -> None:
    stmt = _insert(session).values(name=name, value=value, updated_at=utcnow())
    stmt = stmt.on_conflict_do_update(
        index_elements=["name"], set_={"value": stmt.excluded.value, "updated_at": stmt.excluded.updated_at}
    )
    await session.execute(stmt)


async def put_if_absent(session: AsyncSession, name: str, value: str) -> None:
    stmt = _insert(session).values(name=name, value=value, updated_at=utcnow())
    await session.execute(stmt.on_conflict_do_nothing(index_elements=["name"]))


async def raise_to(session: AsyncSession, name: str, value: int) -> None:
    """Set an integer value to ``value`` unless it is already higher (one atomic UPDATE)."""
    await put_if_absent(session, name, "0")
    await session.execute(
        update(HubStateRow)
        .where(HubStateRow.name == name, cast(HubStateRow.value, BigInteger) < value)
        .values(value=str(value), updated_at=utcnow())
    )


async def bump(session: AsyncSession, name: str) -> int:
    """Increment a counter atomically (created at 1); the new value."""
    await put_if_absent(session, name, "0")
    await session.execute(
        update(HubStateRow)
        .where(HubStateRow.name == name)
        .values(value=cast(cast(HubStateRow.value, BigInteger) + 1, Text), updated_at=utcnow())
    )
    return await get_int(session, name)
