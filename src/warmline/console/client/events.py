"""The hub's event stream, kept alive: SSE with reconnect, jittered backoff, Last-Event-ID and dedupe.

The hub's event log is the truth; this task resumes from the last event it applied, so
after any disconnect the console catches up on everything it missed and applies each
event exactly once (event ids increase strictly, so anything at or below the last applied
id is a duplicate).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from collections.abc import Callable
from enum import StrEnum

import httpx
from httpx_sse import SSEError, aconnect_sse
from pydantic import ValidationError

from warmline.console.client.backoff import Backoff
from warmline.console.client.hub_client import HubClient, HubError
from warmline.domain.models import Event

log = logging.getLogger(__name__)

# Keepalives arrive every 15 s; a read that waits four times that means a dead peer.
# (No read timeout at all would hang forever on a half-open connection.)
STREAM_TIMEOUT = httpx.Timeout(10.0, read=60.0)


class ConnectionState(StrEnum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    UNAUTHORIZED = "unauthorized"
    STOPPED = "stopped"


class EventStream:
    """Follows ``GET /v1/events`` until cancelled, calling back for each new event and state change."""

    def __init__(
        self,
        client: HubClient,
        *,
        last_event_id: int,
        on_event: Callable[[Event], None],
        on_state: Callable[[ConnectionState, str], None],
        on_reset: Callable[[], None] | None = None,
        min_backoff: float = 0.25,
        max_backoff: float = 5.0,
        rng: random.Random | None = None,
    ) -> None:
        self.client = client
        self.last_event_id = last_event_id
        self.on_event = on_event
        self.on_state = on_state
        self.on_reset = on_reset  # the hub's `reset` event: reload state (docs/operations.md)
        self.resets = 0
        self.min_backoff = min_backoff
        self.max_backoff = max_backoff
        self.backoff = Backoff(min_backoff, max_backoff, rng=rng)
        self.next_retry_at: float | None = None  # wall-clock time of the next attempt, while waiting
        self.connects = 0  # how many times a stream was opened (1 + reconnects)
        self.duplicates_dropped = 0
        self._state: ConnectionState | None = None
        self._current_response: httpx.Response | None = None

    def _set_state(self, state: ConnectionState, detail: str = "") -> None:
        if state != self._state or detail:
            self._state = state
            self.on_state(state, detail)

    @property
    def state(self) -> ConnectionState | None:
        return self._state

    async def drop_connection(self) -> None:
        """Close the current HTTP stream (as a network blip would); run() reconnects and replays."""
        response = self._current_response
        if response is not None:
            with contextlib.suppress(Exception):
                await response.aclose()

    async def run(self) -> None:
        """Stream forever, reconnecting with jittered backoff; returns only when cancelled."""
        self._set_state(ConnectionState.CONNECTING)
        try:
            while True:
                try:
                    got_any = await self._stream_once()
                    detail = "stream ended"
                    if got_any:
                        self.backoff.reset()
                except HubError as exc:
                    if exc.status == 401:
                        self._set_state(ConnectionState.UNAUTHORIZED, exc.message)
                    detail = exc.message
                except (httpx.HTTPError, SSEError) as exc:
                    detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                # A refused token will not heal quickly: wait the longest; anything else, jittered.
                refused = self._state == ConnectionState.UNAUTHORIZED
                delay = self.max_backoff if refused else self.backoff.next()
                self.next_retry_at = time.time() + delay
                if self._state != ConnectionState.UNAUTHORIZED:
                    when = time.strftime("%H:%M:%S", time.localtime(self.next_retry_at))
                    self._set_state(ConnectionState.RECONNECTING, f"{detail}; next try at {when}")
                await asyncio.sleep(delay)
                self.next_retry_at = None
        finally:
            self._current_response = None
            self.next_retry_at = None
            self._state = ConnectionState.STOPPED

    async def _stream_once(self) -> bool:
        """One connection: replay from last_event_id, then live. True if it got past the handshake."""
        headers = {"Last-Event-ID": str(self.last_event_id)}
        async with aconnect_sse(
            self.client.http, "GET", "/v1/events", headers=headers, timeout=STREAM_TIMEOUT
        ) as source:
            response = source.response
            if response.status_code >= 400:
                await response.aread()
                raise HubError.from_response(response)
            self._current_response = response
            self.connects += 1
            self._set_state(ConnectionState.CONNECTED)
            try:
                async with contextlib.aclosing(source.aiter_sse()) as events:
                    async for sse in events:
                        if sse.event == "reset":
                            self._reset(sse.id)
                            continue
                        self._handle(sse.id, sse.data)
            finally:
                self._current_response = None
        return True

    def _reset(self, sse_id: str) -> None:
        """Events after our cursor were removed by the hub's retention: the stream goes on
        after ``sse_id``, and what we hold must be reloaded (``on_reset``)."""
        self.resets += 1
        with contextlib.suppress(ValueError):
            self.last_event_id = max(self.last_event_id, int(sse_id))
        if self.on_reset is not None:
            try:
                self.on_reset()
            except Exception:
                log.exception("reloading after a reset failed")

    def _handle(self, sse_id: str, data: str) -> None:
        if not data:
            return
        try:
            event = Event.model_validate(json.loads(data))
        except (ValueError, ValidationError):
            # An event type this console does not know yet (a newer hub): skip it, but
            # still advance past it so a reconnect does not replay it forever.
            with contextlib.suppress(ValueError):
                self.last_event_id = max(self.last_event_id, int(sse_id))
            log.warning("skipping an event the console cannot parse: %.200s", data)
            return
        if event.id <= self.last_event_id:
            self.duplicates_dropped += 1
            return
        self.last_event_id = event.id
        try:
            self.on_event(event)
        except Exception:  # the stream must outlive a bug in one handler
            log.exception("handling event %s failed", event.id)
