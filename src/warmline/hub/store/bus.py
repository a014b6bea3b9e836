"""How commits wake event streams: the in-process ``EventBus`` and, on PostgreSQL, the
LISTEN connection that wakes it for other hub processes' commits (``NOTIFY_CHANNEL``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from warmline.storage.engine import CONNECT_TIMEOUT_SECONDS
from warmline.storage.urls import plain_postgres_url

log = logging.getLogger(__name__)

NOTIFY_CHANNEL = "warmline_events"


class EventBus:
    """Wakes event streams up; carries no data (the event log is the truth)."""

    def __init__(self) -> None:
        self.version = 0
        self.closed = False
        self.streams = 0  # open event streams, for status and tests
        self._changed = asyncio.Event()

    def notify(self) -> None:
        """Something was appended to the log: wake every waiting stream."""
        self.version += 1
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    def close(self) -> None:
        """The hub is stopping: wake every stream so it can end."""
        self.closed = True
        self.notify()

    async def wait(self, seen_version: int, timeout: float) -> None:
        """Return when the log changed after ``seen_version``, on close, or after ``timeout``."""
        if self.version != seen_version or self.closed:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), timeout)


async def listen_forever(url: str, bus: EventBus, notified: Callable[..., None]) -> None:
    """PostgreSQL: keep one LISTEN connection calling ``notified`` for other hubs' commits;
    reconnect with backoff (the event feed's polling covers the gaps)."""
    import asyncpg

    delay = 0.5
    while True:
        conn = None
        try:
            conn = await asyncpg.connect(plain_postgres_url(url), timeout=CONNECT_TIMEOUT_SECONDS)
            lost = asyncio.Event()
            conn.add_termination_listener(lambda _c, lost=lost: lost.set())
            await conn.add_listener(NOTIFY_CHANNEL, notified)
            delay = 0.5
            bus.notify()  # we may have missed something while disconnected
            await lost.wait()
        except asyncio.CancelledError:
            if conn is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(conn.close(), 2)
            raise
        except Exception as exc:
            log.warning("event listener lost (%s); retrying in %.1fs", exc, delay)
        if conn is not None and not conn.is_closed():
            with contextlib.suppress(Exception):
                await conn.close()
        await asyncio.sleep(delay)
        delay = min(delay * 2, 5.0)
