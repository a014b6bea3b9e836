"""An event-loop watchdog for tests that throw bad input at a running hub (issue 19).

A task on the hub's own loop sleeps ``interval`` over and over and notes how late it wakes
(the loop's lag) and how much CPU the hub's thread used meanwhile. A request that blocks
the loop (a slow regex, a quadratic parse, a synchronous call) shows as lag with the hub
thread busy for about as long; lag while the thread was *not* busy is the machine or the
GIL (other threads, other processes) and is reported but judged separately, so a loaded
CI box does not fail the test while a blocking request still does. Garbage collection on
the hub's thread is not counted as busy either (reported as the longest GC pause): in the
test process it scans schemathesis' and hypothesis' objects too.

Use ``with LoopWatchdog(hub, request) as dog: ...``; on leaving, it asserts the loop never
stayed busy longer than ``limit`` (100 ms) at a time, and records the figures on the test
(``user_properties``: tests/conftest.py prints the worst in the terminal summary).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import threading
import time
from typing import Any

import pytest

from warmline.hub.embedded import EmbeddedHub

LIMIT = 0.100  # the hub's loop must never be busy longer than this under one request
STARVED_LIMIT = 3.0  # lag of any kind (its thread asleep in a sync call); loaded 2-vCPU boxes: ~1.2 s


class LoopWatchdog:
    def __init__(
        self, hub: EmbeddedHub, request: pytest.FixtureRequest | None = None, *, interval: float = 0.005
    ) -> None:
        self.hub = hub
        self.request = request
        self.interval = interval
        self.max_lag = 0.0  # the latest wake-up seen (wall clock)
        self.max_busy = 0.0  # the longest the hub thread was busy between two wake-ups
        self.samples = 0
        self.note = ""  # what the test is doing now (set it before each request)
        self.worst = ""  # the note when the loop was busiest
        self.max_gc = 0.0  # the longest garbage collection on the hub's thread
        self._gc_cpu = 0.0  # CPU the hub's thread spent collecting garbage, so far
        self._gc_start = 0.0
        self._thread = 0
        self._task: asyncio.Task[None] | None = None

    def _gc(self, phase: str, _info: dict[str, int]) -> None:
        """Garbage collection on the hub's thread: its length follows the whole test
        process's heap (schemathesis, hypothesis), not what the hub does, so it is taken
        out of "busy" and reported on its own."""
        if threading.get_ident() != self._thread:
            return
        if phase == "start":
            self._gc_start = time.thread_time()
        else:
            spent = time.thread_time() - self._gc_start
            self._gc_cpu += spent
            self.max_gc = max(self.max_gc, spent)

    async def _sample(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            start, cpu, gc_cpu = loop.time(), time.thread_time(), self._gc_cpu  # (on the hub's thread)
            await asyncio.sleep(self.interval)
            lag = loop.time() - start - self.interval
            busy = min(lag, time.thread_time() - cpu - (self._gc_cpu - gc_cpu))
            self.samples += 1
            self.max_lag = max(self.max_lag, lag)
            if busy > self.max_busy:
                self.max_busy, self.worst = busy, self.note

    async def _start(self) -> None:
        self._thread = threading.get_ident()
        gc.callbacks.append(self._gc)
        self._task = asyncio.get_running_loop().create_task(self._sample())

    async def _stop(self) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        gc.callbacks.remove(self._gc)

    def __enter__(self) -> LoopWatchdog:
        self.hub.run(self._start())
        return self

    def __exit__(self, exc_type: Any, *_exc: object) -> None:
        self.hub.run(self._stop())
        label = self.request.node.name if self.request is not None else "hub"
        print(
            f"loop watchdog [{label}]: {self.samples} samples, max busy {self.max_busy * 1000:.1f} ms, "
            f"max lag {self.max_lag * 1000:.1f} ms, longest GC pause there {self.max_gc * 1000:.1f} ms; "
            f"busiest during: {self.worst or '-'}"
        )
        if self.request is not None:
            self.request.node.user_properties.append(("loop_max_busy_ms", round(self.max_busy * 1000, 1)))
            self.request.node.user_properties.append(("loop_max_lag_ms", round(self.max_lag * 1000, 1)))
        if exc_type is None:
            assert self.samples > 0, "the watchdog never ran"
            assert self.max_busy <= LIMIT, (
                f"the hub's loop was busy {self.max_busy * 1000:.0f} ms at a stretch"
            )
            assert self.max_lag <= STARVED_LIMIT, f"the hub's loop lagged {self.max_lag * 1000:.0f} ms"
