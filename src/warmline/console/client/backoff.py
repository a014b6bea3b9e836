"""Jittered, capped backoff for everything the console retries (event stream, REST, outbox).

Many consoles reconnecting to a hub that just came back must not all knock at the same
instant, so every delay is randomised. Two schedules (AWS architecture blog, "Exponential
Backoff And Jitter"):

- ``full_jitter(attempt)``: uniform in [0, min(cap, base * 2**attempt)]; for a few quick
  REST retries.
- ``Backoff`` (decorrelated jitter): uniform in [base, min(cap, 3 * previous)], never
  below ``base`` nor above ``cap``; for open-ended loops (reconnect, outbox drain). The
  next delay grows from the previous one, and ``reset()`` after a success starts over.

Both take a ``random.Random`` so tests can seed the schedule.
"""

from __future__ import annotations

import random


def full_jitter(attempt: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Delay before retry number ``attempt`` (0-based): uniform in [0, min(cap, base * 2**attempt)]."""
    if base < 0 or cap < 0:
        raise ValueError("base and cap must be >= 0")
    ceiling = min(cap, base * (2 ** min(max(attempt, 0), 62)))
    return (rng or random).uniform(0.0, ceiling)


class Backoff:
    """Decorrelated-jitter delays in [base, cap]; ``reset()`` after a success."""

    def __init__(self, base: float = 0.25, cap: float = 5.0, *, rng: random.Random | None = None) -> None:
        if base <= 0 or cap < base:
            raise ValueError(f"need 0 < base <= cap (got base={base}, cap={cap})")
        self.base = base
        self.cap = cap
        self.rng = rng or random.Random()
        self._previous = base
        self.attempts = 0

    def reset(self) -> None:
        self._previous = self.base
        self.attempts = 0

    def next(self) -> float:
        """The next delay in seconds."""
        high = min(self.cap, self._previous * 3)
        delay = min(self.cap, self.rng.uniform(self.base, max(self.base, high)))
        self._previous = delay
        self.attempts += 1
        return delay
