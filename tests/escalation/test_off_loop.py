"""The engine reads buyer messages off the event loop, within a time budget (issue 19, item 1).

A buyer's 7,000-digit message once blocked the hub's loop for 15 s. Now the text work runs in a
worker thread: ``/v1/health`` keeps answering while ``POST /v1/escalation/decide`` and an
AI-assisted conversation chew on such messages (real hub over loopback, SQLite and PostgreSQL),
and a message that cannot be read within ``[engine] turn_budget_ms`` is decided from what
finished, with a ``reading_budget_exceeded`` signal saying what was skipped.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from warmline.catalog.demo import ensure_demo_catalog
from warmline.domain.models import AuthorKind
from warmline.escalation.engine import EscalationEngine
from warmline.escalation.models import Turn
from warmline.escalation.policy import Policy
from warmline.escalation.reading import read_parts
from warmline.hub.embedded import EmbeddedHub
from warmline.hub.settings import HubSettings

PROSE = (
    "we run the GX-220 on line 3 and need the torque and IP rating, also what about stock and the "
    "price, could an engineer check the flange, our existing pump leaks at 6 bar and 60 C "
)


# A health probe slower than this means the loop was held (the loop-lag test below is the fine check).
FROZEN = 3.0


def digits(n: int, seed: int) -> str:
    rng = random.Random(seed)
    return "".join(rng.choice("0123456789") for _ in range(n))


class Probe:
    """Polls /v1/health back to back; records when each answer arrived and how long it took."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.answers: list[tuple[float, float]] = []  # (answered at, latency)
        self._stop = asyncio.Event()

    async def run(self) -> None:
        while not self._stop.is_set():
            start = time.monotonic()
            r = await self.client.get("/v1/health")
            assert r.status_code == 200
            self.answers.append((time.monotonic(), time.monotonic() - start))
            await asyncio.sleep(0.005)

    def stop(self) -> None:
        self._stop.set()

    def during(self, start: float, end: float) -> list[float]:
        return [latency for at, latency in self.answers if start < at < end]


@pytest.fixture
async def hub(database_url: str) -> AsyncIterator[EmbeddedHub]:
    await ensure_demo_catalog(database_url)
    embedded = EmbeddedHub(HubSettings(database_url=database_url, host="127.0.0.1", port=0))
    embedded.start()
    try:
        yield embedded
    finally:
        embedded.stop()


async def test_health_answers_while_decide_reads_a_7000_digit_message(hub: EmbeddedHub) -> None:
    token = hub.create_bot("product-ai")
    # the 7,000-digit message last, after a transcript of long messages the engine reads first
    turns = [{"seq": i + 1, "author_kind": "buyer", "body": (PROSE * 60)[:7000] + f" {i}"} for i in range(12)]
    turns.append({"seq": 13, "author_kind": "buyer", "body": digits(7000, 13)})
    async with httpx.AsyncClient(base_url=hub.base_url, timeout=60) as client:
        await client.get("/v1/health")
        probe = Probe(client)
        probing = asyncio.create_task(probe.run())
        start = time.monotonic()
        r = await client.post(
            "/v1/escalation/decide",
            json={"turns": turns},
            headers={"Authorization": f"Bearer {token}"},
        )
        end = time.monotonic()
        probe.stop()
        await probing
    assert r.status_code == 200, r.text
    assert r.json()["outcome"] in {"answer", "clarify", "next_step", "escalate"}
    answered = probe.during(start, end)
    assert answered, f"/v1/health never answered during the {end - start:.2f} s decide"
    # (the freeze was 15 s; a 2-vCPU box shared with other work has shown 1.5 s of plain CPU contention)
    assert max(answered) < FROZEN, f"/v1/health waited {max(answered):.2f} s while the engine read"


async def test_health_answers_while_the_hub_ai_reads_7000_digit_buyer_turns(hub: EmbeddedHub) -> None:
    bot = hub.create_bot("widget")
    _agent, agent_token = hub.create_agent("dana", ["all"])
    async with httpx.AsyncClient(base_url=hub.base_url, timeout=60) as client:
        created = await client.post(
            "/v1/conversations",
            headers={"Authorization": f"Bearer {bot}"},
            json={"buyer": {"name": "Ola", "company": "Fjord Tools AS"}, "ai_assistant": True},
        )
        assert created.status_code == 201, created.text
        conversation_id = created.json()["conversation"]["id"]
        buyer = {"Authorization": f"Bearer {created.json()['buyer_token']}"}
        probe = Probe(client)
        probing = asyncio.create_task(probe.run())
        start = time.monotonic()
        for i in range(6):
            r = await client.post(
                f"/v1/conversations/{conversation_id}/messages", headers=buyer, json={"body": digits(7000, i)}
            )
            assert r.status_code == 201, r.text
        deadline = time.monotonic() + 60
        while True:  # the AI answers every buyer turn (or hands off); wait for its last reply
            thread = (
                await client.get(
                    f"/v1/conversations/{conversation_id}", headers={"Authorization": f"Bearer {agent_token}"}
                )
            ).json()["messages"]
            if thread and thread[-1]["author_kind"] == "ai":
                break
            assert time.monotonic() < deadline, "the hub's AI never answered"
            await asyncio.sleep(0.02)
        end = time.monotonic()
        probe.stop()
        await probing
    answered = probe.during(start, end)
    assert answered, "/v1/health never answered while the AI read the buyer's turns"
    assert max(answered) < FROZEN, f"/v1/health waited {max(answered):.2f} s while the AI read"


async def test_the_loop_keeps_ticking_while_a_long_message_is_read() -> None:
    """Event-loop lag while the engine reads an 8,000-character message, against reading it inline."""
    engine = EscalationEngine()
    body = (PROSE * 60)[:8000]
    parts: dict = {}
    start = time.perf_counter()
    read_parts(parts, body + " inline", 1, engine.reader.lexicon)  # what blocked the loop before
    inline = time.perf_counter() - start

    gaps: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0.002)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    ticking = asyncio.create_task(ticker())
    await asyncio.sleep(0.01)
    decision = await engine.decide([Turn(seq=1, author_kind=AuthorKind.BUYER, body=body)])
    done.set()
    await ticking
    assert decision.turn == 1
    assert max(gaps) < max(0.05, inline / 2), (
        f"loop stalled {max(gaps) * 1000:.0f} ms (inline read {inline * 1000:.0f} ms)"
    )


async def test_budget_overrun_decides_from_what_finished_and_says_so() -> None:
    policy = Policy.load()
    policy.engine.turn_budget_ms = 0.5
    engine = EscalationEngine(policy=policy)
    body = (PROSE * 60)[:8000]
    decision = await engine.decide([Turn(seq=1, author_kind=AuthorKind.BUYER, body=body)])
    notes = [s for s in decision.signals if s.name == "reading_budget_exceeded"]
    assert notes, [s.name for s in decision.signals]
    assert "facts" in str(notes[0].value), "constraint extraction runs last, so it is what an overrun skips"
    assert "0.5 ms" in notes[0].detail

    # the worker finishes in the background; the next decision on this transcript reads it whole
    deadline = time.monotonic() + 30
    while engine.reader.cached(body, 1) is None:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.01)
    again = await engine.decide([Turn(seq=1, author_kind=AuthorKind.BUYER, body=body)])
    assert not [s for s in again.signals if s.name == "reading_budget_exceeded"]
