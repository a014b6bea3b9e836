"""Keep an open handoff's packet current as the buyer keeps writing.

After the handoff, a buyer often adds what the specialist needs most: urgency ("the line is
down"), quantities, another product, a constraint. On every buyer turn in a conversation with
an open (queued or claimed) handoff, the hub asks the escalation engine (its public
``decide``) to read the whole transcript again, and merges what it found into the packet:
new products, constraints (a newer value of the same constraint wins), quantities, urgency,
documents and open questions, each with the turn it came from; the priority only goes up.
The reason, summary and goal stay those of the handoff. When anything changed, the handoff
row is updated and a ``handoff.updated`` event goes out, so the queue re-sorts and the
console's card shows the new facts.

Runs in the background after the buyer's POST has answered: one worker, turns in a burst
folded into one reading, a bounded number of readings per second (``PacketRefresher``); the
engine's CPU work is the engine's business (it runs it off the loop).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from sqlalchemy import update

from warmline.domain.models import AuthorKind, Buyer, EventType
from warmline.domain.packet import MAX_ITEMS, AccountFacts, HandoffPacket, Priority
from warmline.hub import service
from warmline.hub.service.handoffs import _search_haystack
from warmline.hub.store import repository as repo
from warmline.hub.store.db import Database, utcnow
from warmline.hub.store.tables import OPEN_STATUSES, HandoffRow

log = logging.getLogger(__name__)


def _by(items: list[Any], key: Any) -> dict[Any, Any]:
    return {key(i): i for i in items}


def merge_packets(old: HandoffPacket, new: HandoffPacket) -> HandoffPacket:
    """The handoff's packet with what a later reading adds (old items keep their turn links)."""
    products = list(old.products)
    known = {p.sku for p in products}
    products += [p for p in new.products if p.sku not in known]
    constraints = _by(list(old.constraints), lambda c: c.name.casefold())
    for c in new.constraints:
        prior = constraints.get(c.name.casefold())
        if prior is None or (c.source_turn or 0) > (prior.source_turn or 0):
            constraints[c.name.casefold()] = c
    quantities = _by(list(old.quantities), lambda q: (q.sku or "", q.unit))
    for q in new.quantities:
        prior = quantities.get((q.sku or "", q.unit))
        if prior is None or (q.source_turn or 0) > (prior.source_turn or 0):
            quantities[(q.sku or "", q.unit)] = q
    documents = list(old.documents)
    titles = {d.title for d in documents}
    documents += [d for d in new.documents if d.title not in titles]
    unresolved = list(old.unresolved)
    texts = {n.text.casefold() for n in unresolved}
    unresolved += [n for n in new.unresolved if n.text.casefold() not in texts]
    urgency, urgency_turn = old.urgency, old.urgency_turn
    if new.urgency and (new.urgency_turn or 0) > (old.urgency_turn or 0):
        urgency, urgency_turn = new.urgency, new.urgency_turn
    return old.model_copy(
        update={
            "products": products[:MAX_ITEMS],
            "constraints": list(constraints.values())[:MAX_ITEMS],
            "quantities": list(quantities.values())[:MAX_ITEMS],
            "documents": documents[:MAX_ITEMS],
            "unresolved": unresolved[:MAX_ITEMS],
            "urgency": urgency,
            "urgency_turn": urgency_turn,
            "signals": list(dict.fromkeys([*old.signals, *new.signals]))[:MAX_ITEMS],
            "product_family": old.product_family or new.product_family,
        }
    )


def higher(a: Priority, b: Priority | None) -> Priority:
    return b if b is not None and b.rank < a.rank else a


class PacketRefresher:
    """Re-reads conversations with an open handoff after buyer turns, in the background.

    One worker, bounded work however busy the hub is: a conversation waits
    ``DEBOUNCE_SECONDS`` after the turn that queued it, so a burst of turns is one reading
    (it reads the whole transcript: nothing is missed); readings run one at a time, at most
    ``MAX_PER_SECOND`` (a reading costs about as much CPU as a buyer turn in an AI-assisted
    conversation, and this must never compete with the buyer's POSTs and the event streams);
    the queue holds each conversation once, so its size is bounded by the open handoffs; and
    a conversation without an open handoff costs one indexed query."""

    DEBOUNCE_SECONDS = 0.3
    MAX_PER_SECOND = 4.0

    def __init__(self, db: Database, engine: Any) -> None:
        self.db = db
        self.engine = engine
        self._pending: dict[str, float] = {}  # conversation id -> when its first unread turn came
        self._wake = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None

    def buyer_turn(self, conversation_id: str) -> None:
        loop = asyncio.get_running_loop()
        self._pending.setdefault(conversation_id, loop.time())
        self._wake.set()
        if self._worker is None or self._worker.done():
            self._worker = loop.create_task(self._work(), name="warmline-packet-refresh")

    async def _work(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if not self._pending:
                self._wake.clear()
                await self._wake.wait()
                continue
            conversation_id, since = next(iter(self._pending.items()))
            wait = since + self.DEBOUNCE_SECONDS - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            del self._pending[conversation_id]  # a turn from now on queues it again
            started = loop.time()
            try:
                await self.refresh(conversation_id)
            except Exception:  # one conversation's failure must not stop the others' updates
                log.exception("packet refresh of %s failed", conversation_id)
            await asyncio.sleep(max(0.0, 1 / self.MAX_PER_SECOND - (loop.time() - started)))

    async def refresh(self, conversation_id: str) -> bool:
        """True when the open handoff's packet or priority changed."""
        async with self.db.read() as session:
            handoff = await repo.open_handoff(session, conversation_id)
            if handoff is None:
                return False
            conversation = await repo.conversation(session, conversation_id)
            if conversation is None:
                return False
            rows = await repo.messages(session, conversation_id, include_internal=False)
            turns = [service.message_model(m) for m in rows]
        if not turns or turns[-1].author_kind is not AuthorKind.BUYER:
            return False
        buyer = Buyer.model_validate(conversation.buyer)
        old = HandoffPacket.model_validate(handoff.packet)
        account = old.account if old.account.company else AccountFacts(company=buyer.company)
        try:
            decision = await self.engine.decide(turns, account)
        except Exception as exc:  # the engine must never break the buyer's conversation
            log.warning("packet refresh of %s: the engine failed: %s", conversation_id, exc)
            return False
        if decision.packet is None:
            return False  # the engine found nothing to hand off in this turn: nothing new
        merged = merge_packets(old, decision.packet)
        priority = higher(Priority(handoff.priority), decision.priority)
        if merged == old and priority.value == handoff.priority:
            return False
        return await self._store(handoff.id, conversation_id, merged, priority)

    async def _store(
        self, handoff_id: str, conversation_id: str, packet: HandoffPacket, priority: Priority
    ) -> bool:
        async with self.db.write() as tx:
            row = await repo.handoff(tx.session, handoff_id)
            if row is None or row.status not in OPEN_STATUSES:
                return False
            company = row.buyer_company
            result = await tx.session.execute(
                update(HandoffRow)
                .where(HandoffRow.id == handoff_id, HandoffRow.status.in_(OPEN_STATUSES))
                .values(
                    packet=packet.model_dump(mode="json"),
                    priority=priority.value,
                    priority_rank=priority.rank,
                    search_text=_search_haystack(packet, company),
                    updated_at=utcnow(),
                )
                .execution_options(synchronize_session=False)
            )
            if not result.rowcount:  # type: ignore[attr-defined]
                return False
            await tx.session.refresh(row)
            owner = await repo.agent(tx.session, row.claimed_by) if row.claimed_by else None
            model = service.handoff_model(row, owner)
            tx.emit(
                EventType.HANDOFF_UPDATED,
                service.summary_data(model),
                conversation_id=conversation_id,
                handoff_id=handoff_id,
            )
        return True

    async def aclose(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
