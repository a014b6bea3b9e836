"""The reply-timeout sweep (issue 12): each hub instance warns holders before the timeout and
takes back claims with no first reply to the buyer (rules and settings: ``warmline.hub.assignment``).

One indexed read per interval when nothing is due (``ix_handoffs_reply_due``); a due claim is
taken back by a conditional UPDATE ... WHERE status = 'claimed' AND first_reply_at IS NULL AND
claimed_at < cutoff RETURNING, so on one PostgreSQL exactly one instance requeues a handoff; the
requeue writes its note and events through the service layer in the same transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from warmline.domain.models import AgentRef, AuthorKind, EventType, HandoffStatus
from warmline.hub.assignment import AssignmentConfig
from warmline.hub.metrics import capture
from warmline.hub.service.conversations import append_messages
from warmline.hub.service.handoffs import SYSTEM_AUTHOR
from warmline.hub.service.views import handoff_model, summary_data
from warmline.hub.store.db import Database, Tx, utcnow
from warmline.hub.store.tables import AgentRow, HandoffRow, core

log = logging.getLogger(__name__)


def _due(cutoff: datetime) -> ColumnElement[bool]:
    return and_(
        HandoffRow.status == HandoffStatus.CLAIMED.value,
        HandoffRow.first_reply_at.is_(None),
        HandoffRow.claimed_at < cutoff,
    )


class ReplyTimer:
    """Each hub instance's sweep: warns holders, takes back claims with no first reply."""

    def __init__(self, db: Database, config: AssignmentConfig) -> None:
        self.db = db
        self.config = config
        self._task: asyncio.Task[None] | None = None
        self.requeued = 0  # by this instance

    async def start(self) -> None:
        if self.config.reply_timeout_s > 0:
            self._task = asyncio.create_task(self._run(), name="warmline-reply-timer")

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    async def _run(self) -> None:
        while not self.db.bus.closed:
            try:
                await self.sweep()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database restarting, etc.: the next sweep retries
                log.warning("reply-timeout sweep failed: %s: %s", type(exc).__name__, exc)
            await asyncio.sleep(self.config.sweep_s)

    async def sweep(self, now: datetime | None = None) -> list[str]:
        """One pass; the ids this instance requeued. Nothing due: one indexed read."""
        now = now or utcnow()
        warn_cutoff = now - timedelta(seconds=self.config.warn_after_s)
        due_cutoff = now - timedelta(seconds=self.config.reply_timeout_s)
        async with self.db.read_statement() as session:
            found = await session.scalar(
                select(HandoffRow.id)
                .where(
                    _due(warn_cutoff),
                    or_(HandoffRow.reply_warned_at.is_(None), HandoffRow.claimed_at < due_cutoff),
                )
                .limit(1)
            )
        if found is None:
            return []
        async with self.db.write() as tx:
            await self._warn(tx, now, warn_cutoff, due_cutoff)
            return await self._requeue(tx, now, due_cutoff)

    async def _warn(self, tx: Tx, now: datetime, warn_cutoff: datetime, due_cutoff: datetime) -> None:
        t = core(HandoffRow)
        rows = (
            await tx.session.execute(
                update(t)
                .where(
                    _due(warn_cutoff),
                    HandoffRow.claimed_at >= due_cutoff,
                    HandoffRow.reply_warned_at.is_(None),
                )
                .values(reply_warned_at=now)
                .returning(t.c.id, t.c.conversation_id, t.c.claimed_by, t.c.claimed_at)
            )
        ).all()
        for row in rows:
            left = self.config.reply_timeout_s - (now - row.claimed_at).total_seconds()
            tx.emit(
                EventType.HANDOFF_CLAIM_EXPIRING,
                {"agent_id": row.claimed_by, "seconds_left": max(0, round(left)), "handoff_id": row.id},
                conversation_id=row.conversation_id,
                handoff_id=row.id,
            )

    async def _requeue(self, tx: Tx, now: datetime, due_cutoff: datetime) -> list[str]:
        t = core(HandoffRow)
        rows = (
            await tx.session.execute(
                update(t)
                .where(_due(due_cutoff))
                .values(
                    status=HandoffStatus.QUEUED.value,
                    claimed_by=None,
                    requeued_from=t.c.claimed_by,  # (the row's value before this UPDATE)
                    requeued_at=now,
                    reply_warned_at=None,
                    updated_at=now,
                )
                .returning(t.c.id, t.c.conversation_id, t.c.requeued_from, t.c.claimed_at)
            )
        ).all()
        if not rows:
            return []
        ids = [r.id for r in rows]
        await tx.session.execute(update(t).where(t.c.id.in_(ids)).values(claimed_at=None))
        holders = {
            a.id: a
            for a in (
                await tx.session.scalars(
                    select(AgentRow).where(AgentRow.id.in_({r.requeued_from for r in rows}))
                )
            )
        }
        for row in rows:
            holder = holders.get(row.requeued_from)
            held_s = round((now - row.claimed_at).total_seconds(), 1)
            name = (holder.display_name or holder.name) if holder else "the holder"
            handoff = await tx.session.get(HandoffRow, row.id, populate_existing=True)
            assert handoff is not None
            data = summary_data(handoff_model(handoff, None))
            data.update(
                from_agent=AgentRef(id=row.requeued_from, name=name).model_dump()
                if row.requeued_from
                else None,
                held_s=held_s,
                reason="reply_timeout",
            )
            tx.emit(EventType.HANDOFF_REQUEUED, data, conversation_id=row.conversation_id, handoff_id=row.id)
            await capture.handoff_released(tx, row.id)  # a requeue, for the metrics
            minutes = self.config.reply_timeout_s / 60
            limit = f"{minutes:g} min" if minutes >= 1 else f"{self.config.reply_timeout_s:g} s"
            note = (
                f"Taken back from {name}: no reply to the buyer within {limit} "
                f"(held {held_s:g} s). Back at the front of the queue."
            )
            await append_messages(
                tx, row.conversation_id, [(AuthorKind.SYSTEM, SYSTEM_AUTHOR, note, True, None, None)]
            )
        self.requeued += len(rows)
        log.info("reply timeout: requeued %s", ", ".join(ids))
        return ids


# --- colleague notes -------------------------------------------------------------------------
