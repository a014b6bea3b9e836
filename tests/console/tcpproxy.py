"""A loopback TCP proxy that a test can cut and restore (test infrastructure, not a mock).

It forwards bytes between the console and the real hub on its own thread and asyncio loop,
so it keeps working while the test's qasync loop is busy. ``cut()`` closes the listening
socket and every live connection (the console sees its stream end and then "connection
refused"); ``restore()`` listens again on the same port. ``lose_next_answer(b"POST /v1/...")``
lets the next request that starts so reach the hub but kills its connection when the answer
comes back (the request is done; the client never hears it).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from concurrent.futures import Future
from typing import Any


class TcpProxy:
    def __init__(self, target_host: str, target_port: int, *, host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.host = host
        self.port = 0
        self.connections = 0  # accepted so far
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="tcp-proxy", daemon=True)
        self._server: asyncio.base_events.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._lose_prefix: bytes | None = None
        self.answers_lost = 0

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _call(self, coro) -> Any:
        future: Future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        return future.result(timeout=10)

    def start(self) -> TcpProxy:
        self._thread.start()
        self._call(self._listen())
        return self

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._accept, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    @property
    def is_up(self) -> bool:
        return self._server is not None

    def cut(self) -> None:
        """Refuse new connections and drop every open one."""
        self._call(self._cut())

    async def _cut(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for w in list(self._writers):
            w.transport.abort()  # RST: like a dropped network path, not a polite close
        self._writers.clear()
        for t in list(self._tasks):
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def lose_next_answer(self, request_prefix: bytes) -> None:
        self._lose_prefix = request_prefix

    def restore(self) -> None:
        """Listen again on the same port."""
        self._call(self._listen())

    def close(self) -> None:
        if not self._thread.is_alive():
            return
        with contextlib.suppress(Exception):
            self._call(self._cut())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._server is None:
            writer.transport.abort()
            return
        self.connections += 1
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._writers.update((writer, up_writer))
        last_request = [b""]  # the start of the latest request on this connection
        for a, b, up in ((reader, up_writer, True), (up_reader, writer, False)):
            task = asyncio.ensure_future(self._pipe(a, b, up, last_request, up_writer))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pipe(self, reader, writer, upstream: bool, last_request: list[bytes], up_writer) -> None:
        try:
            while data := await reader.read(65536):
                if upstream:
                    if data[:4].isalpha():  # a new request line (HTTP/1.1, one at a time)
                        last_request[0] = data[:200]
                elif self._lose_prefix is not None and last_request[0].startswith(self._lose_prefix):
                    self._lose_prefix = None
                    self.answers_lost += 1
                    writer.transport.abort()  # the answer never reaches the client
                    up_writer.transport.abort()
                    return
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            self._writers.discard(writer)
            with contextlib.suppress(Exception):
                writer.close()
