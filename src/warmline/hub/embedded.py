"""A hub inside this process, on its own thread and event loop: for the demo, GUI tests, benchmarks."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Self, TypeVar

from fastapi import FastAPI

from warmline.domain.models import Agent
from warmline.hub import service
from warmline.hub.app import create_app
from warmline.hub.server import HubServer, server_config
from warmline.hub.settings import HubSettings
from warmline.hub.store.db import Database, Tx
from warmline.storage.migrate import upgrade

T = TypeVar("T")


class EmbeddedHub:
    """Runs the hub with uvicorn in a background thread; ``start()`` returns its base URL.

    The port defaults to 0 (the OS picks a free one; ``start()`` reports the real one).
    ``stop()`` ends event streams first, so it returns quickly even with consoles attached.
    """

    def __init__(
        self,
        settings: HubSettings | None = None,
        *,
        database_url: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        log_level: str = "warning",
    ) -> None:
        base = settings or HubSettings(host=host, port=port)
        if database_url is not None:
            base = base.model_copy(update={"database_url": database_url})
        if settings is None:
            base = base.model_copy(update={"host": host, "port": port})
        self.settings: HubSettings = base
        self.log_level = log_level
        self.app: FastAPI | None = None
        self.base_url: str | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: HubServer | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    # --- lifecycle -------------------------------------------------------------------

    def start(self, timeout: float = 30.0) -> str:
        """Migrate the database, serve, and return ``http://host:port`` once it accepts requests."""
        if self._thread is not None:
            raise RuntimeError("EmbeddedHub already started")
        self._thread = threading.Thread(target=self._run, name="warmline-hub", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            self.stop()
            raise TimeoutError(f"embedded hub did not start within {timeout}s")
        if self._error is not None:
            self._thread.join(5)
            self._thread = None
            raise RuntimeError(f"embedded hub failed to start: {self._error!r}") from self._error
        assert self.base_url is not None
        return self.base_url

    def stop(self, timeout: float = 15.0) -> None:
        """Stop serving (open event streams end first) and join the thread."""
        thread, loop, server = self._thread, self._loop, self._server
        if thread is None:
            return
        if loop is not None and server is not None and not loop.is_closed():
            with _ignore_closed_loop():
                loop.call_soon_threadsafe(setattr, server, "should_exit", True)
        thread.join(timeout)
        if thread.is_alive():
            if server is not None:
                server.force_exit = True
            thread.join(5)
        self._thread = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    @property
    def open_streams(self) -> int:
        """How many event streams are open right now (0 when not running)."""
        if self.app is None or not hasattr(self.app.state, "db"):
            return 0
        return self.app.state.db.bus.streams

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and self._ready.is_set()

    # --- reaching the hub's database from another thread -------------------------------

    @property
    def db(self) -> Database:
        """The hub's Database (lives on the hub's loop: use it through ``run``)."""
        if self.app is None or not hasattr(self.app.state, "db"):
            raise RuntimeError("EmbeddedHub is not running")
        return self.app.state.db

    def run(self, coro: Coroutine[Any, Any, T] | Callable[[], Awaitable[T]], timeout: float = 30.0) -> T:
        """Run a coroutine on the hub's loop (it may use ``self.db``) and return its result."""
        if self._loop is None or not self.running:
            raise RuntimeError("EmbeddedHub is not running")
        if callable(coro) and not asyncio.iscoroutine(coro):
            factory = coro

            async def call() -> T:
                return await factory()

            coro = call()
        future: concurrent.futures.Future[T] = asyncio.run_coroutine_threadsafe(coro, self._loop)  # type: ignore[arg-type]
        return future.result(timeout)

    def write(self, fn: Callable[[Tx], Awaitable[T]], timeout: float = 30.0) -> T:
        """Run ``fn(tx)`` in one write transaction on the hub (events are published as usual)."""

        async def call() -> T:
            async with self.db.write() as tx:
                return await fn(tx)

        return self.run(call(), timeout)

    def create_agent(self, name: str, skills: list[str], display_name: str = "") -> tuple[Agent, str]:
        """Add a specialist; returns it and its bearer token."""
        return self.write(
            lambda tx: service.create_agent(tx, name=name, skills=skills, display_name=display_name)
        )

    def create_bot(self, name: str) -> str:
        """Issue a bot token."""
        return self.write(lambda tx: service.create_bot(tx, name=name))

    # --- the hub thread ---------------------------------------------------------------

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        except BaseException as exc:
            self._error = self._error or exc
        finally:
            self._ready.set()
            try:
                _cancel_leftovers(loop)
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.run_until_complete(loop.shutdown_default_executor())
            finally:
                loop.close()

    async def _serve(self) -> None:
        await upgrade(self.settings.database_url)
        self.app = create_app(self.settings)
        config = server_config(
            self.app, host=self.settings.host, port=self.settings.port, log_level=self.log_level
        )
        self._server = server = HubServer(config, self.app)
        serving = asyncio.create_task(server.serve())
        while not server.started and not serving.done():
            await asyncio.sleep(0.01)
        if server.started:
            # uvicorn bound the port itself (port 0: the OS picked one); read back the real one
            port = server.servers[0].sockets[0].getsockname()[1]
            self.settings = self.settings.model_copy(update={"port": port})
            host = f"[{self.settings.host}]" if ":" in self.settings.host else self.settings.host
            self.base_url = f"http://{host}:{port}"
            self._ready.set()
        await serving
        if self.base_url is None:
            raise RuntimeError(f"uvicorn could not serve on {self.settings.host}:{self.settings.port}")


def _cancel_leftovers(loop: asyncio.AbstractEventLoop) -> None:
    tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in tasks:
        task.cancel()
    if tasks:
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))


class _ignore_closed_loop:
    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> bool:
        return exc_type is RuntimeError
