"""Plain domain objects for model tests (no hub, no widgets)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from warmline.domain.models import Agent, AgentRef, AuthorKind, HandoffStatus, HandoffSummary, Message
from warmline.domain.packet import Priority, ReasonCategory

_ids = itertools.count(1)
T0 = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


def agent(
    name: str = "anna", skills: tuple[str, ...] = ("drives", "quotes"), *, all_skills: bool = False
) -> Agent:
    return Agent(id=f"ag-{name}", name=name, skills=list(skills), all_skills=all_skills, created_at=T0)


def summary(
    *,
    id: str | None = None,
    priority: Priority = Priority.NORMAL,
    reason: ReasonCategory = ReasonCategory.LIVE_DATA,
    skills: tuple[str, ...] = ("drives",),
    company: str = "Acme Mills",
    family: str = "gearbox",
    text: str = "Needs live pricing for a gearbox.",
    age_s: float = 60.0,
    status: HandoffStatus = HandoffStatus.QUEUED,
    claimed_by: Agent | None = None,
    now: datetime = T0,
) -> HandoffSummary:
    hid = id or f"h{next(_ids):05d}"
    return HandoffSummary(
        id=hid,
        conversation_id=f"c-{hid}",
        status=status,
        priority=priority,
        reason=reason,
        summary=text,
        product_family=family,
        required_skills=list(skills),
        buyer_company=company,
        created_at=now - timedelta(seconds=age_s),
        claimed_by=AgentRef(id=claimed_by.id, name=claimed_by.name) if claimed_by else None,
    )


def message(conv: str, seq: int, body: str = "hello", kind: AuthorKind = AuthorKind.BUYER, **kw) -> Message:
    return Message(
        id=kw.pop("id", f"{conv}-m{seq}"),
        conversation_id=conv,
        seq=seq,
        author_kind=kind,
        body=body,
        created_at=T0 + timedelta(seconds=seq),
        **kw,
    )
