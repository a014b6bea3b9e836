"""A plausible past for the demo workspace: a few hundred handoffs over the last 30 days,
claimed, answered and resolved at past times, with reviews, ratings and buyers who repeated
themselves, so `warmline demo` opens a dashboard (and `warmline report`) worth looking at.

Each handoff goes through the hub's own service functions (conversation, handoff, messages
and their events) and the metrics capture, with the historical times passed in; only the
status change to resolved is written directly (``service.resolve_handoff`` stamps now).
Deterministic for a seed; skipped when the database already has measured handoffs.
"""

# ruff: noqa: E501 - the demo cases read better one per line

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update

from warmline.domain.models import AuthorKind, NewHandoff
from warmline.hub.metrics import capture
from warmline.hub.metrics.tables import HandoffFactRow
from warmline.hub.store.db import Database
from warmline.hub.store.tables import AgentRow, HandoffRow

COMPANIES = ("Nordic Pulp AB", "Kraft Oy", "Baltic Conveyors AB", "Kessler CNC GmbH", "Sierra Foundry",
             "Meridian Plastics Inc", "Cobalt Labs BV", "Nordhavn Marine Services")  # fmt: skip
# (reason, sub_reason, buyer's question, SKU, constraint, quantity)
CASES = (
    ("purchase_intent", "quote_request", "I need a quote for {q} units of GX-220", "GX-220", None, 40),
    ("live_data", "lead_time", "What is the lead time for CP-020 to Gothenburg?", "CP-020", None, None),
    ("low_confidence", "", "Will the GX-220 take 180 N·m continuous torque?", "GX-220", ("torque", ">= 180", "N·m"), None),
    ("complexity", "", "We need a pump for 60 l/min coolant at 70 °C", "CP-020", ("flow", ">= 60", "l/min"), None),
    ("explicit_request", "", "Can I talk to a person about our conveyor retrofit?", "GX-220", None, None),
    ("policy_rule", "", "Is this certified for ATEX zone 1?", "CP-020", None, None),
)  # fmt: skip
OUTCOMES = ("answered", "quote_sent", "order_placed", "lost", "no_response")


def _packet(case: tuple[Any, ...], quantity: int) -> dict[str, Any]:
    reason, sub, _question, sku, constraint, _q = case
    packet: dict[str, Any] = {
        "reason": reason,
        "sub_reason": sub,
        "summary": f"A specialist should take this {reason.replace('_', ' ')} question.",
        "goal": "Choose and order the right part",
        "products": [{"sku": sku, "name": sku}],
    }
    if constraint:
        packet["constraints"] = [{"name": constraint[0], "value": constraint[1], "unit": constraint[2]}]
    if case[5]:
        packet["quantities"] = [{"amount": quantity, "unit": "pcs", "sku": sku}]
    return packet


async def seed_history(db: Database, *, count: int = 300, days: int = 30, seed: int = 13) -> int:
    """Write ``count`` resolved handoffs escalated over the last ``days``; returns how many."""
    from warmline.hub import service

    async with db.read() as session:
        if await session.scalar(select(func.count()).select_from(HandoffFactRow)):
            return 0
        agents = list((await session.scalars(select(AgentRow.id))).all())
    if not agents:
        return 0
    rnd = random.Random(seed)
    now = datetime.now(UTC)
    for i in range(count):
        case = rnd.choice(CASES)
        quantity = rnd.choice((10, 24, 40, 120))
        at = now - timedelta(days=days) + timedelta(seconds=rnd.randrange((days - 1) * 86400))
        question = case[2].format(q=quantity)
        spec = NewHandoff.model_validate(
            {
                "conversation": {
                    "buyer": {"name": "Demo buyer", "company": rnd.choice(COMPANIES)},
                    "subject": question[:60],
                    "messages": [
                        {
                            "author_kind": "buyer",
                            "body": question,
                            "created_at": (at - timedelta(minutes=2)).isoformat(),
                        },
                        {
                            "author_kind": "ai",
                            "body": "Let me bring in a specialist.",
                            "created_at": at.isoformat(),
                        },
                    ],
                },
                "packet": _packet(case, quantity),
                "escalated_at": at.isoformat(),
                "announce": False,
            }
        )
        busy = rnd.random() < 0.3  # a busy hour: slower first replies
        claimed = at + timedelta(seconds=int(rnd.lognormvariate(5.5 if busy else 4.5, 0.8)))
        replied = claimed + timedelta(seconds=rnd.randint(20, 240))
        resolved = replied + timedelta(seconds=int(rnd.lognormvariate(7.5, 0.9)))
        agent = rnd.choice(agents)
        async with db.write() as tx:
            created = await service.create_handoff(tx, spec=spec)
            hid, cid = created.handoff.id, created.handoff.conversation_id
            await capture.handoff_claimed(tx, hid, agent, claimed)
            if rnd.random() < 0.1:
                await capture.handoff_released(tx, hid)
            await service.append_messages(
                tx, cid, [(AuthorKind.AGENT, "Specialist", "Happy to help with this.", False, agent, replied)]
            )
            await capture.agent_replied(tx, hid, replied)
            if rnd.random() < 0.18:  # the buyer restates what the packet already had
                again = (
                    f"As I said, {quantity} pcs of {case[3]}" if case[5] else f"Again: it is the {case[3]}"
                )
                when = replied + timedelta(seconds=60)
                await service.append_messages(
                    tx, cid, [(AuthorKind.BUYER, "Demo buyer", again, False, None, when)]
                )
        async with db.write() as tx:  # (messages written in a transaction are read after it)
            await tx.session.execute(
                update(HandoffRow)
                .where(HandoffRow.id == hid)
                .values(
                    status="resolved",
                    claimed_by=agent,
                    claimed_at=claimed,
                    resolved_at=resolved,
                    updated_at=resolved,
                )
            )
            row = await tx.session.get(HandoffRow, hid, populate_existing=True)
            assert row is not None
            review = None
            if rnd.random() < 0.7:
                late = rnd.random() < 0.12
                review = capture.ResolveReview(
                    outcome=rnd.choices(OUTCOMES, weights=(40, 25, 15, 12, 8))[0],
                    unnecessary=rnd.random() < 0.15,
                    late=late,
                    late_turn=1 if late else None,
                    buyer_repeated=rnd.random() < 0.05,
                )
            await capture.handoff_resolved(tx, row, agent, review)
            if i % 3 == 0:  # a third asked the assistant before replying
                await tx.session.execute(
                    update(HandoffFactRow).where(HandoffFactRow.handoff_id == hid).values(ai_assisted=True)
                )
            if rnd.random() < 0.4:
                assisted = await tx.session.scalar(
                    select(HandoffFactRow.ai_assisted).where(HandoffFactRow.handoff_id == hid)
                )
                stars = rnd.choices(
                    (1, 2, 3, 4, 5), weights=(1, 2, 4, 8, 8) if assisted else (2, 3, 5, 7, 5)
                )[0]
                await tx.session.execute(
                    update(HandoffFactRow)
                    .where(HandoffFactRow.handoff_id == hid)
                    .values(rating=stars, rating_comment="", rated_at=resolved + timedelta(minutes=5))
                )
    return count
