"""The traffic simulator: buyers talking to the product AI, over the hub's real HTTP API.

Every handoff it creates comes from the escalation engine deciding on a scripted buyer
conversation (``warmline.sim.scenarios``), never from a hand-written packet:

- ``seed()`` plays every scenario in memory through the engine and hands each one off
  with its whole transcript (``POST /v1/handoffs``), back-dated so the queue has ages.
  Idempotency keys make a second seed of the same workspace create nothing.
- ``run()`` keeps the console alive: every few seconds a new buyer starts a conversation
  that is played turn by turn (buyer message, engine decision, AI reply, and finally the
  handoff), or a buyer in an open handoff writes again.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from warmline.domain.models import AuthorKind, Buyer
from warmline.escalation.engine import EscalationEngine
from warmline.escalation.models import Decision, Turn
from warmline.sim.scenarios import FOLLOW_UPS, SCENARIOS, Scenario, play_scenario

log = logging.getLogger("warmline.sim")

AI_NAME = "Warmline AI"

# Companies the live simulator rotates through, so new handoffs look like new buyers.
VARIANT_COMPANIES = [
    ("Alpine Packaging GmbH", "DACH"),
    ("Baltic Food Systems", "Nordics"),
    ("Cascadia Water Works", "US West"),
    ("Delta Mining Supply", "APAC"),
    ("Iberia Automation SL", "Iberia"),
    ("Midlands Bottling Ltd", "UK"),
    ("Rhône Process Équipements", "France"),
    ("Vistula Machine Works", "Poland"),
]


@dataclass
class OpenConversation:
    conversation_id: str
    buyer: Buyer
    topic: str
    buyer_token: str | None = None
    follow_ups_sent: int = 0


@dataclass
class Simulator:
    """Plays buyer traffic into a hub as a bot (``bot_token``) and as buyers (their tokens)."""

    hub_url: str
    bot_token: str
    engine: EscalationEngine
    scenarios: Sequence[Scenario] = field(default_factory=lambda: list(SCENARIOS))
    interval: tuple[float, float] = (3.0, 7.0)
    turn_pause: tuple[float, float] = (0.8, 2.0)
    rng: random.Random = field(default_factory=lambda: random.Random(7))
    open: list[OpenConversation] = field(default_factory=list)
    # The oldest seeded conversations the simulator never writes in: a person plays those
    # buyers in the browser (the demo shop page at /demo/shop links them).
    left_for_people: int = 0
    for_people: list[OpenConversation] = field(default_factory=list)
    handoffs_created: int = 0
    messages_posted: int = 0
    seed_epoch: datetime = field(default_factory=lambda: datetime.now(UTC).replace(second=0, microsecond=0))

    def __post_init__(self) -> None:
        self._client = httpx.AsyncClient(
            base_url=self.hub_url, headers={"Authorization": f"Bearer {self.bot_token}"}, timeout=30
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    # --- HTTP helpers -------------------------------------------------------------------

    async def _post(
        self, path: str, body: dict[str, Any], *, key: str | None = None, token: str | None = None
    ) -> dict[str, Any]:
        headers = {"Idempotency-Key": key or uuid.uuid4().hex}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        response = await self._client.post(path, json=body, headers=headers)
        if response.status_code >= 400:
            raise RuntimeError(f"POST {path} -> {response.status_code}: {response.text[:500]}")
        return response.json()

    # --- seeding --------------------------------------------------------------------------

    async def seed(self, *, workspace: str = "demo") -> list[str]:
        """Hand off every scenario once (idempotent per workspace); returns handoff ids.

        The bodies depend only on the scenarios and ``seed_epoch``, so a retried seed sends
        the very same requests and the hub's idempotency keys answer with the first result.
        """
        now = self.seed_epoch
        ids: list[str] = []
        for index, scenario in enumerate(self.scenarios):
            transcript, decision = await play_scenario(self.engine, scenario)
            if not decision.escalates or decision.packet is None:
                log.warning("scenario %s did not escalate; not seeded", scenario.id)
                continue
            # spread ages over the last ~2 hours so the queue's timers differ
            escalated_at = now - timedelta(minutes=3 + index * 5 + random.Random(index).randint(0, 4))
            start = escalated_at - timedelta(seconds=40 * len(transcript))
            messages = [
                {
                    "author_kind": turn.author_kind.value,
                    "author_name": turn.author_name,
                    "body": turn.body,
                    "created_at": (start + timedelta(seconds=40 * i)).isoformat(),
                }
                for i, turn in enumerate(transcript)
            ]
            created = await self._post(
                "/v1/handoffs",
                {
                    "conversation": {
                        "buyer": scenario.buyer.model_dump(),
                        "subject": scenario.subject,
                        "messages": messages,
                    },
                    "packet": decision.packet.model_dump(mode="json"),
                    "required_skills": decision.required_skills,
                    "priority": decision.priority.value if decision.priority else None,
                    "announce": False,
                    "escalated_at": escalated_at.isoformat(),
                },
                key=f"seed:{workspace}:{scenario.id}",
            )
            handoff = created["handoff"]
            ids.append(handoff["id"])
            self.open.append(
                OpenConversation(
                    conversation_id=handoff["conversation_id"],
                    buyer=scenario.buyer,
                    topic=scenario.topic,
                    buyer_token=created.get("buyer_token"),
                )
            )
        self.handoffs_created += len(ids)
        if self.left_for_people > 0:  # the last seeded are the oldest (ages grow with the index)
            self.for_people = self.open[-self.left_for_people :]
            self.open = self.open[: -self.left_for_people]
        return ids

    # --- live traffic --------------------------------------------------------------------

    async def run(self, *, iterations: int | None = None) -> None:
        """Produce traffic until cancelled (or for ``iterations`` actions)."""
        done = 0
        while iterations is None or done < iterations:
            await asyncio.sleep(self.rng.uniform(*self.interval))
            try:
                if self.open and self.rng.random() < 0.55:
                    await self.buyer_follow_up()
                else:
                    await self.new_conversation()
            except asyncio.CancelledError:
                raise
            except Exception:  # the demo must keep going; the hub may be restarting
                log.warning("simulator step failed", exc_info=True)
            done += 1

    async def new_conversation(self) -> Decision:
        """A new buyer plays a scenario turn by turn until the engine hands off."""
        scenario = self.rng.choice(list(self.scenarios))
        company, region = self.rng.choice(VARIANT_COMPANIES)
        buyer = scenario.buyer.model_copy(update={"company": company, "region": region})
        account = dataclasses.replace(scenario, buyer=buyer).account
        created = await self._post(
            "/v1/conversations", {"buyer": buyer.model_dump(), "subject": scenario.subject}
        )
        conversation_id = created["conversation"]["id"]
        buyer_token = created["buyer_token"]
        turns: list[Turn] = []
        decision: Decision | None = None
        for text in scenario.turns:
            message = await self._post(
                f"/v1/conversations/{conversation_id}/messages", {"body": text}, token=buyer_token
            )
            turns.append(Turn(seq=message["seq"], author_kind=AuthorKind.BUYER, body=text))
            decision = await self.engine.decide(turns, account)
            await asyncio.sleep(self.rng.uniform(*self.turn_pause))
            reply = await self._post(
                f"/v1/conversations/{conversation_id}/messages",
                {"body": decision.reply, "author_kind": "ai", "author_name": AI_NAME},
            )
            turns.append(Turn(seq=reply["seq"], author_kind=AuthorKind.AI, body=decision.reply))
            self.messages_posted += 2
            if decision.escalates:
                break
        assert decision is not None
        if decision.escalates and decision.packet is not None:
            await self._post(
                "/v1/handoffs",
                {
                    "conversation_id": conversation_id,
                    "packet": decision.packet.model_dump(mode="json"),
                    "required_skills": decision.required_skills,
                    "priority": decision.priority.value if decision.priority else None,
                    "announce": False,
                },
            )
            self.handoffs_created += 1
            self.open.append(OpenConversation(conversation_id, buyer, scenario.topic, buyer_token))
        return decision

    async def buyer_follow_up(self) -> None:
        """A buyer waiting in an open handoff writes again (as the buyer, with their token)."""
        conversation = self.rng.choice(self.open)
        lines = FOLLOW_UPS.get(conversation.topic, []) + FOLLOW_UPS.get("default", [])
        if not lines:
            return
        text = lines[conversation.follow_ups_sent % len(lines)]
        conversation.follow_ups_sent += 1
        body: dict[str, Any] = {"body": text}
        if conversation.buyer_token is None:  # bots may post as the buyer
            body |= {"author_kind": "buyer", "author_name": conversation.buyer.name}
        try:
            await self._post(
                f"/v1/conversations/{conversation.conversation_id}/messages",
                body,
                token=conversation.buyer_token,
            )
        except RuntimeError:
            # resolved or gone: stop writing into it
            self.open.remove(conversation)
            raise
        self.messages_posted += 1
