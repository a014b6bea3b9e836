"""The hub's own buyer channel: its product AI answers buyer turns and hands off.

For conversations opened with ``ai_assistant: true`` the hub runs the escalation engine
on every buyer turn, in the background (the buyer's POST answers at once): it posts the
AI's reply (answer, clarifying question, next step) into the thread and, when the engine
escalates, opens the handoff with the engine's packet, skills and priority in the same
transaction. Once a handoff is open, humans have the conversation and the AI is silent.
The engine reads buyer text in a worker thread within a per-message budget, so a long or
hostile message never stalls this loop (docs/escalation.md, "Off the event loop").
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from warmline.buyer.refs import save_turn_refs
from warmline.domain.models import AuthorKind, Buyer, NewHandoff
from warmline.domain.packet import AccountFacts
from warmline.escalation.engine import EscalationEngine
from warmline.escalation.models import Decision
from warmline.hub import service
from warmline.hub.store import repository as repo
from warmline.hub.store.db import Database

log = logging.getLogger(__name__)


class HubAssistant:
    """Answers buyer turns of AI-assisted conversations; one turn at a time per conversation."""

    def __init__(self, db: Database, engine: EscalationEngine) -> None:
        self.db = db
        self.engine = engine
        self._tasks: set[asyncio.Task[Any]] = set()
        self._locks: dict[str, asyncio.Lock] = {}

    def buyer_turn(self, conversation_id: str) -> None:
        """A buyer wrote in this conversation: answer in the background."""
        task = asyncio.get_running_loop().create_task(self.respond(conversation_id))
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("assistant turn failed", exc_info=task.exception())

    async def respond(self, conversation_id: str) -> Decision | None:
        """Decide on the latest buyer turn and post the outcome; None when there is nothing to do."""
        lock = self._locks.setdefault(conversation_id, asyncio.Lock())
        async with lock:
            async with self.db.read() as session:
                conversation = await repo.conversation(session, conversation_id)
                if conversation is None or not conversation.ai_assistant:
                    return None
                if await repo.open_handoff(session, conversation_id) is not None:
                    return None  # a specialist has (or is about to have) this conversation
                rows = await repo.messages(session, conversation_id, include_internal=False)
                visible = [service.message_model(m) for m in rows]
            if not visible or visible[-1].author_kind is not AuthorKind.BUYER:
                return None  # already answered (a retried POST, or two turns answered together)
            buyer = Buyer.model_validate(conversation.buyer)
            account = AccountFacts(
                company=buyer.company,
                tier=buyer.tier,
                region=buyer.region,
                enterprise=buyer.tier == "enterprise",
            )
            decision = await self.engine.decide(visible, account)
            handoff = None
            if decision.escalates and decision.packet is not None:
                handoff = NewHandoff(
                    conversation_id=conversation_id,
                    packet=decision.packet,
                    required_skills=decision.required_skills,
                    priority=decision.priority,
                    announce=False,  # the AI's reply already tells the buyer why and what is passed on
                )
            async with self.db.write() as tx:
                if await repo.open_handoff(tx.session, conversation_id) is not None:
                    return None
                message, _created = await service.post_assistant_turn(
                    tx, conversation_id=conversation_id, reply=decision.reply, handoff=handoff
                )
                # the SKUs and documents this turn rests on: chips and source links in the web widget
                await save_turn_refs(
                    tx.session, conversation_id=conversation_id, message_id=message.id, decision=decision
                )
            if len(self._locks) > 10_000:  # idle conversations: drop their locks
                self._locks = {k: v for k, v in self._locks.items() if v.locked()}
            return decision

    async def aclose(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
