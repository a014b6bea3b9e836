"""A team's assignment rules (issue 12): the reply timeout, the idle flag and capacity.

- Reply timeout: a claimed handoff whose holder has not replied to the buyer within
  ``reply_timeout_s`` goes back to the queue (front of its priority) with ``handoff.requeued``
  and an internal note; ``handoff.claim_expiring`` warns the holder before. ``ReplyTimer``
  sweeps on every hub instance: one indexed read per interval when nothing is due
  (``ix_handoffs_reply_due``), then a conditional UPDATE ... WHERE status = 'claimed' AND
  first_reply_at IS NULL AND claimed_at < cutoff RETURNING: on one PostgreSQL the row lock
  and the re-checked WHERE make exactly one instance requeue a handoff. The state is in the
  handoff row, so a restart loses nothing. (The sweep itself is ``warmline.hub.reply_timer``:
  it writes through the service layer, which uses the rules here.)
- Idle flag: ``buyers_waiting`` finds, for claimed handoffs, the oldest buyer message no
  agent reply followed for ``idle_timeout_s`` (``HandoffSummary.buyer_waiting_since``).
- Capacity: ``capacity_test`` is the claim's extra WHERE (a count over ``ix_handoffs_holder``
  in the same UPDATE: no extra round trip); ``capacity_refusal`` explains a refused claim.

Settings: resources/policy.toml ``[assignment]``, a workspace override in
$WARMLINE_POLICY_FILE, then HubSettings (``warmline hub --reply-timeout/--idle-timeout``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from warmline.domain.models import (
    Agent,
    AuthorKind,
    CapacityDetail,
    EventType,
    HandoffStatus,
    Message,
)
from warmline.hub.errors import Conflict
from warmline.hub.store.db import Tx, utcnow
from warmline.hub.store.tables import AgentRow, HandoffRow, MessageRow, core
from warmline.resources import resource_path

log = logging.getLogger(__name__)

POLICY_ENV = "WARMLINE_POLICY_FILE"
WARN_BEFORE_S = 60.0  # handoff.claim_expiring: the last minute (half the timeout if shorter)


@dataclass(frozen=True)
class AssignmentConfig:
    """The effective team rules of one hub (0 turns a timeout or the capacity limit off)."""

    reply_timeout_s: float = 120.0
    idle_timeout_s: float = 600.0
    max_active_per_agent: int = 5
    sweep_s: float = 1.0

    @property
    def warn_after_s(self) -> float:
        """Seconds after the claim when the holder is warned (``handoff.claim_expiring``)."""
        return max(self.reply_timeout_s - WARN_BEFORE_S, self.reply_timeout_s / 2)

    @classmethod
    def load(cls, settings: Any = None) -> AssignmentConfig:
        """policy.toml's [assignment], the workspace override's, then the hub's settings."""
        values: dict[str, Any] = dict(policy_assignment())
        for key in ("reply_timeout_s", "idle_timeout_s", "max_active_per_agent"):
            given = getattr(settings, key, None)
            if given is not None:
                values[key] = given
        sweep = getattr(settings, "assignment_sweep_s", None)
        return cls(
            reply_timeout_s=float(values.get("reply_timeout_s", cls.reply_timeout_s)),
            idle_timeout_s=float(values.get("idle_timeout_s", cls.idle_timeout_s)),
            max_active_per_agent=int(values.get("max_active_per_agent", cls.max_active_per_agent)),
            sweep_s=float(sweep) if sweep else cls.sweep_s,
        )


def policy_assignment() -> dict[str, Any]:
    """``[assignment]`` of the shipped policy, overridden key by key by $WARMLINE_POLICY_FILE's."""
    out: dict[str, Any] = {}
    paths = [resource_path("policy.toml")]
    if override := os.environ.get(POLICY_ENV):
        paths.append(Path(override))
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            section = tomllib.loads(path.read_text(encoding="utf-8")).get("assignment", {})
            out.update({k: v for k, v in section.items() if isinstance(v, int | float)})
    return out


# --- capacity ---------------------------------------------------------------------------


def capacity_for(agent: Agent, config: AssignmentConfig) -> int:
    """How many handoffs ``agent`` may hold (0: no limit)."""
    return agent.max_active if agent.max_active is not None else config.max_active_per_agent


def capacity_test(agent_id: str, capacity: int) -> ColumnElement[bool]:
    """WHERE clause: ``agent_id`` holds fewer than ``capacity`` handoffs (a count over
    ix_handoffs_holder inside the claiming UPDATE itself)."""
    held = core(HandoffRow).alias("held")
    count = (
        select(func.count())
        .select_from(held)
        .where(held.c.claimed_by == agent_id, held.c.status == HandoffStatus.CLAIMED.value)
        .scalar_subquery()
    )
    return count < capacity


async def held_count(session: AsyncSession, agent_id: str) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(HandoffRow)
            .where(HandoffRow.claimed_by == agent_id, HandoffRow.status == HandoffStatus.CLAIMED.value)
        )
        or 0
    )


class CapacityReached(Conflict):
    """409 ``capacity_reached``, with how many the agent holds and may hold."""

    def __init__(self, held: int, limit: int, *, who: str = "you") -> None:
        holds = "hold" if who == "you" else "holds"
        super().__init__("capacity_reached", f"{who} {holds} {held} of {limit} handoffs (the limit)")
        self.held = held
        self.limit = limit

    def detail(self) -> CapacityDetail:
        return CapacityDetail(
            code=self.code, message=self.message, owner=None, held=self.held, limit=self.limit
        )


async def capacity_refusal(session: AsyncSession, agent_id: str, capacity: int, *, who: str = "you") -> None:
    """Raise CapacityReached when ``agent_id`` is at ``capacity`` (0: never)."""
    if capacity <= 0:
        return
    held = await held_count(session, agent_id)
    if held >= capacity:
        raise CapacityReached(held, capacity, who=who)


# --- first reply and the idle flag --------------------------------------------------------


async def mark_first_reply(tx: Tx, handoff_id: str) -> None:
    """The holder answered the buyer: the reply timeout stops for this claim."""
    await tx.session.execute(
        update(core(HandoffRow))
        .where(HandoffRow.id == handoff_id, HandoffRow.first_reply_at.is_(None))
        .values(first_reply_at=utcnow())
    )


async def buyers_waiting(
    session: AsyncSession, rows: Sequence[Any], idle_s: float, now: datetime | None = None
) -> dict[str, datetime]:
    """conversation id -> the oldest buyer message no agent reply has followed, for those
    waiting ``idle_s`` or longer (claimed handoffs only; {} when the flag is off)."""
    ids = [r.conversation_id for r in rows]
    if idle_s <= 0 or not ids:
        return {}
    cutoff = (now or utcnow()) - timedelta(seconds=idle_s)
    m, a = core(MessageRow).alias("m"), core(MessageRow).alias("a")
    last_reply = (
        select(func.coalesce(func.max(a.c.seq), 0))
        .where(
            a.c.conversation_id == m.c.conversation_id,
            a.c.author_kind == AuthorKind.AGENT.value,
            a.c.internal.is_(False),
        )
        .scalar_subquery()
    )
    out: dict[str, datetime] = {}
    for start in range(0, len(ids), 500):
        stmt = (
            select(m.c.conversation_id, func.min(m.c.created_at))
            .where(
                m.c.conversation_id.in_(ids[start : start + 500]),
                m.c.author_kind == AuthorKind.BUYER.value,
                m.c.seq > last_reply,
            )
            .group_by(m.c.conversation_id)
        )
        for conversation_id, since in (await session.execute(stmt)).all():
            if since is not None and since <= cutoff:  # (min() keeps the column's UTC type)
                out[conversation_id] = since
    return out


MENTION = re.compile(r"@([\w.-]+)")


async def notify_mentions(tx: Tx, message: Message) -> list[str]:
    """An agent's message naming ``@colleague`` (login name, or display name's first word):
    ``agent.mentioned`` for each colleague named (not the author); their ids."""
    named = {m.casefold().rstrip(".") for m in MENTION.findall(message.body)}
    if not named:
        return []
    agents = (await tx.session.scalars(select(AgentRow))).all()
    hit = [
        a
        for a in agents
        if a.id != message.agent_id
        and (a.name.casefold() in named or (a.display_name and a.display_name.split()[0].casefold() in named))
    ]
    for a in hit:
        tx.emit(
            EventType.AGENT_MENTIONED,
            {
                "agent_id": a.id,
                "agent_name": a.display_name or a.name,
                "by": message.author_name,
                "message": message.model_dump(mode="json"),
            },
            conversation_id=message.conversation_id,
        )
    return [a.id for a in hit]
