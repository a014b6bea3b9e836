"""Presence and who is viewing (issue 12 item 4): ``presence`` and ``viewing`` events.

A console reports its specialist *online* (``POST /v1/presence {"status": "online"}``, once
its event stream is open), *away* (5 minutes without input) and the handoff it has open
(``viewing``); the specialist goes *offline* when their last stream on this instance ends
(the feed tells ``PresenceBoard.on_stream``) -- a console that vanishes without closing
its connection is found out by the stream's keepalive write (every 15 s) failing, so
within ~30 s. Consoles that
never report presence cause no presence events. Nothing is stored but the events: the
state lives in each instance's memory; a console on another instance is known there, and
every console learns the others' state from the events of the shared log.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from warmline.domain.models import Agent, EventType
from warmline.hub.principal import Principal
from warmline.hub.store.db import Database

log = logging.getLogger(__name__)

Status = Literal["online", "away", "offline"]


class PresenceReport(BaseModel):
    """``POST /v1/presence``: what changed (a field left out stays as it is)."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["online", "away"] | None = None
    viewing: str | None = Field(default=None, max_length=40, description="the handoff open, or null")


class PresenceState(BaseModel):
    agent_id: str
    agent_name: str
    status: Status
    viewing: str | None = None


class PresenceBoard:
    """This instance's view of who is online and what they have open."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.streams: Counter[str] = Counter()
        self.states: dict[str, PresenceState] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def on_stream(self, principal: Principal, opened: bool) -> None:
        """Count the agent's streams here; when the last one ends, an agent whose console
        reported presence goes offline (streams of consoles that never did stay silent)."""
        agent = principal.agent
        if agent is None:
            return
        self.streams[agent.id] += 1 if opened else -1
        if not opened and self.streams[agent.id] <= 0:
            del self.streams[agent.id]
            known = self.states.get(agent.id)
            if known is not None and known.status != "offline":
                self._spawn(self.update(agent, status="offline", viewing=None, viewing_set=True))

    def _spawn(self, coro: object) -> None:
        task = asyncio.ensure_future(coro)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("presence event not written: %s", task.exception())

    async def update(
        self,
        agent: Agent,
        *,
        status: Status | None = None,
        viewing: str | None = None,
        viewing_set: bool = False,
    ) -> PresenceState:
        """Apply a change; write ``presence`` / ``viewing`` events for what really changed."""
        name = agent.display_name or agent.name
        old = self.states.get(agent.id) or PresenceState(agent_id=agent.id, agent_name=name, status="offline")
        new = old.model_copy(
            update={"status": status or old.status, "viewing": viewing if viewing_set else old.viewing}
        )
        if new.status == "offline":
            new.viewing = None
        self.states[agent.id] = new
        if new == old:
            return new
        async with self.db.write() as tx:
            if new.status != old.status:
                tx.emit(EventType.PRESENCE, {"agent_id": agent.id, "agent_name": name, "status": new.status})
            if new.viewing != old.viewing:
                tx.emit(
                    EventType.VIEWING,
                    {
                        "agent_id": agent.id,
                        "agent_name": name,
                        "handoff_id": new.viewing,
                        "previous": old.viewing,
                    },
                    handoff_id=new.viewing or old.viewing,
                )
        return new

    def snapshot(self) -> list[PresenceState]:
        return sorted(self.states.values(), key=lambda s: s.agent_name)

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
