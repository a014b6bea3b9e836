"""The console's hub client on its own (no Qt): typed answers, errors, idempotent replies, the stream."""

from __future__ import annotations

import asyncio

import pytest

from warmline.console.client import ConnectionState, EventStream, HubClient, HubError
from warmline.domain.models import EventType, HandoffStatus


async def wait_for(condition, what: str, timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


@pytest.fixture
async def anna(data):
    client = HubClient(data.base_url, data.token("anna"))
    yield client
    await client.aclose()


async def test_me_queue_detail_and_claim_conflict_names_owner(data, anna):
    h = data.create_handoff("Client AB", skills=["drives"])
    me = await anna.me()
    assert me.agent is not None and me.agent.name == "anna"
    page = await anna.list_handoffs()
    assert [i.id for i in page.items] == [h.handoff.id]
    assert page.last_event_id > 0
    detail = await anna.get_handoff(h.handoff.id)
    assert detail.packet.products[0].sku == "GBX-4120"
    assert [m.seq for m in detail.conversation.messages][:3] == [1, 2, 3]
    assert data.claim("bob", h.handoff.id).status_code == 200
    with pytest.raises(HubError) as err:
        await anna.claim(h.handoff.id)
    assert err.value.status == 409
    assert err.value.code == "already_claimed"
    assert (
        err.value.owner is not None and err.value.owner.name == "Bob Ng"
    )  # the hub names owners by display name
    with pytest.raises(HubError) as err:
        await anna.get_handoff("h_does_not_exist")
    assert err.value.status == 404


async def test_reply_with_same_idempotency_key_is_created_once(data, anna):
    h = data.create_handoff("Idem AB", skills=["drives"])
    claimed = await anna.claim(h.handoff.id)
    assert claimed.status == HandoffStatus.CLAIMED
    first = await anna.post_message(h.handoff.conversation_id, "Only once.", idempotency_key="k-1")
    again = await anna.post_message(h.handoff.conversation_id, "Only once.", idempotency_key="k-1")
    assert first.id == again.id
    assert [m.body for m in data.messages(h.handoff.conversation_id)].count("Only once.") == 1
    with pytest.raises(HubError) as err:  # same key, other text: refused, nothing written
        await anna.post_message(h.handoff.conversation_id, "Different.", idempotency_key="k-1")
    assert err.value.status == 422


async def test_bad_token_and_unreachable_hub_are_hub_errors(data):
    bad = HubClient(data.base_url, "nope")
    with pytest.raises(HubError) as err:
        await bad.me()
    assert err.value.status == 401
    await bad.aclose()
    gone = HubClient("http://127.0.0.1:9", "x")
    with pytest.raises(HubError) as err:
        await gone.me()
    assert err.value.status == 0 and err.value.code == "unreachable"
    await gone.aclose()


async def test_stream_replays_from_last_event_id_and_drops_duplicates(data, anna):
    page = await anna.list_handoffs()
    start = page.last_event_id
    data.create_handoff("Replay One AB", skills=["drives"])  # happens before the stream opens
    seen = []
    states = []
    stream = EventStream(
        anna, last_event_id=start, on_event=seen.append, on_state=lambda s, d: states.append(s)
    )
    task = asyncio.create_task(stream.run())
    try:
        await wait_for(lambda: any(e.type == EventType.HANDOFF_CREATED for e in seen), "replayed handoff")
        assert ConnectionState.CONNECTED in states
        # a duplicate (an id at or below the last applied one) is dropped
        last = seen[-1]
        stream._handle(str(last.id), last.model_dump_json())
        assert stream.duplicates_dropped == 1
        # cut the connection: the stream reconnects from the last id and replays nothing twice
        await stream.drop_connection()
        await wait_for(lambda: stream.connects == 2, "reconnected")
        data.create_handoff("Replay Two AB", skills=["drives"])
        await wait_for(
            lambda: sum(e.type == EventType.HANDOFF_CREATED for e in seen) == 2, "second handoff live"
        )
        ids = [e.id for e in seen]
        assert ids == sorted(set(ids))
        assert ids[0] > start
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
