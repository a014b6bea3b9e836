"""The event stream over real HTTP: replay, live, isolation, keepalive, shutdown, fan-out."""

from __future__ import annotations

import asyncio
import threading
import time

import httpx
import pytest

from .conftest import SSEReader, Workspace, bearer, new_conversation, packet, start_hub


def _ids(events: list[dict]) -> list[int]:
    return [e["id"] for e in events]


async def test_replay_after_disconnect_has_no_gaps_and_no_duplicates(workspace: Workspace) -> None:
    async with workspace.client(workspace.ben) as ben:
        start = (await ben.get("/v1/handoffs")).json()["last_event_id"]
        async with SSEReader(ben, last_event_id=start) as stream:
            for _ in range(3):
                await workspace.handoff()
            seen = await stream.wait_for(lambda ev: len(ev) >= 8)
            first_part = seen[:8]
        # disconnected; the world moves on
        created = [await workspace.handoff() for _ in range(4)]
        hid = created[0]["handoff"]["id"]
        assert (await ben.post(f"/v1/handoffs/{hid}/claim")).status_code == 200
        end = (await ben.get("/v1/handoffs")).json()["last_event_id"]
        async with SSEReader(ben, last_event_id=first_part[-1]["id"]) as again:
            rest = await again.wait_for(lambda ev: bool(ev) and ev[-1]["id"] >= end)
    everything = first_part + rest
    ids = _ids(everything)
    assert ids == list(range(start + 1, end + 1)), ids  # in order, no gap, no duplicate
    types = [e["type"] for e in everything]
    assert types.count("handoff.created") == 7 and types.count("handoff.claimed") == 1
    claimed = next(e for e in everything if e["type"] == "handoff.claimed")
    assert claimed["data"]["handoff"]["claimed_by"]["name"] == "Ben Okafor"
    assert claimed["handoff_id"] == hid and "packet" not in claimed["data"]["handoff"]


async def test_stream_without_an_id_starts_live_and_query_param_resumes(workspace: Workspace) -> None:
    await workspace.handoff()
    async with workspace.client(workspace.ana) as ana:
        async with SSEReader(ana) as live:
            created = await workspace.handoff()
            events = await live.wait_for(lambda ev: any(e["type"] == "handoff.created" for e in ev))
        # only what happened after connecting: the new handoff's events, none of the first one's
        cids = {e["conversation_id"] for e in events}
        assert cids == {created["handoff"]["conversation_id"]}
        r = await ana.get("/v1/events", params={"last_event_id": "x"})
        assert r.status_code == 422
        r = await ana.get("/v1/events", headers={"Last-Event-ID": "nope"})
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["header", "last-event-id"]
    async with httpx.AsyncClient(base_url=workspace.url, headers=bearer(workspace.ana), timeout=10) as c:
        first = events[0]["id"]
        async with c.stream("GET", "/v1/events", params={"last_event_id": first - 1}) as r:
            assert r.headers["content-type"].startswith("text/event-stream")
            async for line in r.aiter_lines():
                if line.startswith("id:"):
                    assert int(line[3:]) == first
                    break


async def test_buyer_stream_carries_only_its_conversation_without_internal_notes(
    workspace: Workspace,
) -> None:
    mine = await workspace.handoff()
    cid = mine["handoff"]["conversation_id"]
    async with (
        workspace.client(mine["buyer_token"]) as buyer,
        workspace.client(workspace.ben) as ben,
        workspace.client(workspace.bot) as bot,
        SSEReader(buyer, last_event_id=0) as stream,
    ):
        other = await workspace.handoff(conversation=new_conversation("Other Co"))
        hid = mine["handoff"]["id"]
        assert (await ben.post(f"/v1/handoffs/{hid}/claim")).status_code == 200
        await ben.post(f"/v1/conversations/{cid}/messages", json={"body": "secret note", "internal": True})
        await ben.post(f"/v1/conversations/{cid}/messages", json={"body": "Hi, Ben here."})
        r = await bot.post(
            f"/v1/conversations/{other['handoff']['conversation_id']}/messages",
            json={"body": "not for you"},
        )
        assert r.status_code == 201
        events = await stream.wait_for(
            lambda ev: any(e["data"].get("message", {}).get("body") == "Hi, Ben here." for e in ev)
        )
    assert {e["conversation_id"] for e in events} == {cid}
    assert {e["type"] for e in events} == {"conversation.created", "message.created"}
    bodies = [e["data"]["message"]["body"] for e in events if e["type"] == "message.created"]
    assert "secret note" not in bodies and "not for you" not in bodies
    assert "Ben Okafor joined the conversation" in bodies
    assert _ids(events) == sorted(set(_ids(events)))


@pytest.mark.parametrize("hub_settings", [{"sse_keepalive_seconds": 0.3}])
async def test_keepalive_comments_flow_while_idle(workspace: Workspace) -> None:
    async with workspace.client(workspace.ana) as ana, SSEReader(ana) as stream:
        start = stream.comments
        deadline = time.monotonic() + 10
        while stream.comments < start + 3:
            assert time.monotonic() < deadline, "no keepalive comments"
            await asyncio.sleep(0.05)


def test_stop_is_fast_with_streams_open(database_url: str) -> None:
    hub = start_hub(database_url)
    _agent, token = hub.create_agent("ana", ["all"])
    ended: list[float] = []

    async def hold_streams() -> None:
        async with httpx.AsyncClient(base_url=hub.base_url, headers=bearer(token), timeout=30) as c:

            async def one() -> None:
                async with c.stream("GET", "/v1/events") as r:
                    async for _ in r.aiter_lines():
                        pass
                ended.append(time.monotonic())

            await asyncio.gather(*[one() for _ in range(5)])

    thread = threading.Thread(target=lambda: asyncio.run(hold_streams()))
    thread.start()
    # wait until all five streams are open on the server side
    deadline = time.monotonic() + 10
    while hub.open_streams < 5:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    t0 = time.monotonic()
    hub.stop()
    stopped = time.monotonic() - t0
    thread.join(10)
    assert not thread.is_alive()
    assert len(ended) == 5
    assert stopped < 3.0, f"stop took {stopped:.2f}s"


@pytest.mark.postgres
async def test_two_hubs_on_one_postgres_wake_each_other(postgres_url: str) -> None:
    """LISTEN/NOTIFY: an event written through hub A reaches a stream on hub B long before B's poll."""
    a = start_hub(postgres_url, sse_poll_seconds=60)
    b = start_hub(postgres_url, sse_poll_seconds=60)
    try:
        _agent, token = a.create_agent("ana", ["all"])
        bot = a.create_bot("bot")
        async with (
            httpx.AsyncClient(base_url=b.base_url, headers=bearer(token), timeout=30) as on_b,
            SSEReader(on_b) as stream,
        ):
            t0 = time.monotonic()
            async with httpx.AsyncClient(base_url=a.base_url, headers=bearer(bot), timeout=30) as on_a:
                r = await on_a.post(
                    "/v1/handoffs", json={"conversation": new_conversation(), "packet": packet()}
                )
                assert r.status_code == 201
            await stream.wait_for(lambda ev: any(e["type"] == "handoff.created" for e in ev), timeout=10)
            assert time.monotonic() - t0 < 5  # the 60 s poll could not have done it
    finally:
        a.stop()
        b.stop()


async def test_server_ends_the_stream_when_the_client_goes_away(workspace: Workspace) -> None:
    async with workspace.client(workspace.ana) as ana, SSEReader(ana):
        deadline = time.monotonic() + 10
        while workspace.hub.open_streams < 1:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.02)
    deadline = time.monotonic() + 5
    while workspace.hub.open_streams:
        assert time.monotonic() < deadline, "stream still open on the server after the client left"
        await asyncio.sleep(0.02)


async def _raw_stream(url: str, token: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """An SSE request on a raw socket with a tiny receive buffer (so the hub's writes back up)."""
    import socket

    host, port = url.removeprefix("http://").split(":")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (host, int(port)))
    reader, writer = await asyncio.open_connection(sock=sock, limit=1 << 20)
    writer.write(f"GET /v1/events HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n\r\n".encode())
    head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    return reader, writer


async def test_a_slow_reader_gets_every_event_once_and_in_order(workspace: Workspace) -> None:
    """The feed writes live events to caught-up streams itself; a reader too slow to take them
    (its socket full) leaves the feed, catches up from its cursor, and loses or repeats nothing."""
    async with workspace.client(workspace.bot) as bot:
        created = (await bot.post("/v1/conversations", json=new_conversation(messages=0))).json()
    cid, buyer_token = created["conversation"]["id"], created["buyer_token"]
    reader, writer = await _raw_stream(workspace.url, workspace.ben)
    fast = await _raw_stream(workspace.url, workspace.ana)  # reads all along
    try:
        deadline = time.monotonic() + 10
        while workspace.hub.open_streams < 2:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.02)
        fast_buf = bytearray()

        async def drain_fast() -> None:
            while chunk := await fast[0].read(1 << 16):
                fast_buf.extend(chunk)

        draining = asyncio.create_task(drain_fast())
        body = "x" * 7000  # 7 kB per event, 5.6 MB in all: more than the hub's socket buffers hold
        total = 800
        async with workspace.client(buyer_token) as buyer:

            async def post(worker: int) -> None:
                for i in range(worker, total, 8):
                    r = await buyer.post(f"/v1/conversations/{cid}/messages", json={"body": f"{i}:{body}"})
                    assert r.status_code == 201

            await asyncio.gather(*(post(w) for w in range(8)))
        # now read the slow stream to the end of what was posted
        buf = bytearray()
        deadline = time.monotonic() + 30
        while buf.count(b'"body":"') < total:
            assert time.monotonic() < deadline, "the slow stream never caught up"
            buf.extend(await asyncio.wait_for(reader.read(1 << 20), 30))
        deadline = time.monotonic() + 30
        while fast_buf.count(b'"body":"') < total:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        for data in (bytes(buf), bytes(fast_buf)):
            ids = [int(line[4:]) for line in data.split(b"\n") if line.startswith(b"id: ")]
            assert ids == sorted(set(ids)), "events repeated or out of order"
            assert ids == list(range(ids[0], ids[0] + len(ids))), "a gap in the event ids"
            bodies = [int(data[m + 8 : data.index(b":", m + 8)]) for m in _find_all(data, b'"body":"')]
            assert sorted(bodies) == list(range(total))
        # (the slow stream really did leave the feed: its writes backed up)
        assert workspace.hub.app.state.feed.slow_writes >= 1
        draining.cancel()
    finally:
        writer.close()
        fast[1].close()


def _find_all(data: bytes, needle: bytes) -> list[int]:
    out, at = [], data.find(needle)
    while at >= 0:
        out.append(at)
        at = data.find(needle, at + 1)
    return out
