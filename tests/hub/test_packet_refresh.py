"""An open handoff's packet follows what the buyer adds after the handoff (SQLite and PostgreSQL):
urgency, quantities and products are merged in with their turn links, the priority goes up,
and a ``handoff.updated`` event tells the consoles."""

from __future__ import annotations

import asyncio

from warmline.domain.packet import HandoffPacket, Priority, ProductRef
from warmline.hub.packet_refresh import higher, merge_packets

from .conftest import Workspace, new_conversation, packet


async def wait_for(check, what: str, timeout: float = 15.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await check()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def test_buyer_details_after_the_handoff_update_packet_priority_and_queue(workspace, sse) -> None:
    ws: Workspace = workspace
    conv = new_conversation("Urgent Later AB")
    conv["messages"] = [
        {"author_kind": "buyer", "body": "What does a GX-220 gearbox cost?"},
        {"author_kind": "ai", "body": "A specialist will send you a price."},
    ]
    created = await ws.handoff(conversation=conv, packet=packet(goal_turn=1), priority="normal")
    hid, cid = created["handoff"]["id"], created["handoff"]["conversation_id"]
    async with ws.client(ws.ana) as agent, ws.client(created["buyer_token"]) as buyer:
        async with sse(agent) as stream:
            r = await buyer.post(
                f"/v1/conversations/{cid}/messages",
                json={
                    "body": "Urgent: our line is down. We need 40 units of GX-240 as well, "
                    "delivered by Friday, and it must be IP65."
                },
            )
            assert r.status_code == 201, r.text
            turn = r.json()["seq"]
            await stream.wait_for(
                lambda es: any(e["type"] == "handoff.updated" and e["handoff_id"] == hid for e in es),
                timeout=20,
            )
        detail = (await agent.get(f"/v1/handoffs/{hid}")).json()
    p = detail["packet"]
    assert detail["priority"] in ("urgent", "high")
    assert p["summary"] == packet()["summary"]  # the handoff's reason and summary stay
    skus = [x["sku"] for x in p["products"]]
    assert skus[0] == "GX-220"  # (GX-240 is not in this hub's empty catalog: the engine leaves it out)
    assert any(c["value"] == "IP65" and c["source_turn"] == turn for c in p["constraints"])
    assert any(q["amount"] == 40 and q["source_turn"] == turn for q in p["quantities"])
    assert p["urgency"] and p["urgency_turn"] == turn
    # the queue re-sorts: it is ahead of a normal handoff created before it
    other = await ws.handoff(priority="normal")
    async with ws.client(ws.ana) as agent:
        queue = [h["id"] for h in (await agent.get("/v1/handoffs")).json()["items"]]
    assert queue.index(hid) < queue.index(other["handoff"]["id"])


def test_merge_keeps_the_old_items_and_their_turns_and_priority_only_goes_up() -> None:
    old = HandoffPacket.model_validate(packet(products=[{"sku": "GX-220", "name": "A", "source_turn": 1}]))
    new = HandoffPacket.model_validate(
        packet(
            summary="something else",
            products=[{"sku": "GX-220", "name": "A", "source_turn": 3}, {"sku": "GX-240", "source_turn": 3}],
            urgency="line down",
            urgency_turn=3,
        )
    )
    merged = merge_packets(old, new)
    assert merged.summary == old.summary
    assert merged.products == [ProductRef(sku="GX-220", name="A", source_turn=1), new.products[1]]
    assert (merged.urgency, merged.urgency_turn) == ("line down", 3)
    assert merge_packets(merged, new) == merged  # idempotent
    assert higher(Priority.HIGH, Priority.NORMAL) is Priority.HIGH
    assert higher(Priority.NORMAL, Priority.URGENT) is Priority.URGENT
    assert higher(Priority.LOW, None) is Priority.LOW


async def test_a_burst_of_turns_is_one_reading_and_a_turn_during_a_reading_queues_another() -> None:
    """The refresher's scheduling (its reading replaced by a recorder): bounded work per burst."""
    from warmline.hub.packet_refresh import PacketRefresher

    class Recorder(PacketRefresher):
        DEBOUNCE_SECONDS = 0.05
        MAX_PER_SECOND = 1000.0

        def __init__(self) -> None:
            super().__init__(db=None, engine=None)  # type: ignore[arg-type]
            self.readings: list[str] = []
            self.gate = asyncio.Event()

        async def refresh(self, conversation_id: str) -> bool:
            self.readings.append(conversation_id)
            if conversation_id == "slow":
                await self.gate.wait()
            return False

    r = Recorder()
    for _ in range(5):
        r.buyer_turn("a")
    for _ in range(3):
        r.buyer_turn("b")

    async def settled() -> bool:
        return not r._pending and len(r.readings) >= 2

    await wait_for(settled, "the burst to be read")
    assert r.readings == ["a", "b"]
    r.buyer_turn("slow")
    await wait_for(lambda: asyncio.sleep(0, "slow" in r.readings), "the slow reading to start")
    r.buyer_turn("slow")  # arrives while it is being read: read once more afterwards
    r.gate.set()
    await wait_for(
        lambda: asyncio.sleep(0, r.readings.count("slow") == 2 and not r._pending), "a second reading"
    )
    assert r.readings == ["a", "b", "slow", "slow"]  # and nothing is left queued
    await r.aclose()
