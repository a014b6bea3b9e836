"""Baseline for the event-delivery benchmark: a bare ASGI app with no database.

`POST /messages` hands the body to every connected `GET /events` client as a
Server-Sent Event. It is the floor any hub must pay for HTTP + SSE on loopback,
measured with the same client, loop and machine as the real hub in the same run.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any


class BareRelay:
    def __init__(self) -> None:
        self.subscribers: set[asyncio.Queue[bytes]] = set()
        self.next_id = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["path"] == "/messages" and scope["method"] == "POST":
            body = b""
            more = True
            while more:
                message = await receive()
                body += message.get("body", b"")
                more = message.get("more_body", False)
            self.next_id += 1
            payload = json.dumps({"id": self.next_id, "message": json.loads(body)}).encode()
            frame = b"id: %d\nevent: message.created\ndata: %s\n\n" % (self.next_id, payload)
            for queue in self.subscribers:
                queue.put_nowait(frame)
            await send(
                {
                    "type": "http.response.start",
                    "status": 201,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            await send({"type": "http.response.body", "body": payload})
            return
        if scope["path"] == "/events":
            queue: asyncio.Queue[bytes] = asyncio.Queue()
            self.subscribers.add(queue)
            try:
                await send(
                    {
                        "type": "http.response.start",
                        "status": 200,
                        "headers": [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")],
                    }
                )
                await send({"type": "http.response.body", "body": b": hello\n\n", "more_body": True})
                # uvicorn first delivers the (empty) request body; after it, receive() returns
                # only when the client goes away
                request = await receive()
                while request["type"] == "http.request" and request.get("more_body", False):
                    request = await receive()
                if request["type"] == "http.disconnect":
                    return
                disconnected = asyncio.ensure_future(receive())
                while True:
                    getter = asyncio.ensure_future(queue.get())
                    done, _ = await asyncio.wait({getter, disconnected}, return_when=asyncio.FIRST_COMPLETED)
                    if disconnected in done:
                        getter.cancel()
                        return
                    await send({"type": "http.response.body", "body": getter.result(), "more_body": True})
            finally:
                self.subscribers.discard(queue)
            return
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b""})
