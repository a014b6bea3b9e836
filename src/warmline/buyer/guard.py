"""Rules of the widget's public route: rate limits (per IP and per key) and their settings.

The limits are sliding windows kept in the hub process's memory (several hub instances
each count on their own: the effective limit is per instance). Settings come from the
environment: ``WARMLINE_WIDGET_RATE_PER_IP`` and ``WARMLINE_WIDGET_RATE_PER_KEY`` as
``COUNT/SECONDS`` (new conversations), ``WARMLINE_WIDGET_ORIGIN_CACHE_SECONDS``.
"""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: float

    @classmethod
    def parse(cls, text: str) -> Rate:
        count, _, seconds = str(text).partition("/")
        try:
            rate = cls(int(count), float(seconds))
        except ValueError:
            raise ValueError(f"{text!r}: give COUNT/SECONDS, e.g. 20/600") from None
        if rate.count < 1 or rate.seconds <= 0:
            raise ValueError(f"{text!r}: COUNT >= 1 and SECONDS > 0")
        return rate


class WidgetSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WARMLINE_WIDGET_", extra="ignore")

    rate_per_ip: str = Field(default="20/600", description="new conversations per IP address")
    rate_per_key: str = Field(default="600/600", description="new conversations per widget key")
    origin_cache_seconds: float = Field(default=5.0, ge=0)

    @field_validator("rate_per_ip", "rate_per_key")
    @classmethod
    def _rate(cls, value: str) -> str:
        Rate.parse(value)
        return value


class RateLimiter:
    """At most ``rate.count`` hits per ``rate.seconds`` per name (sliding window)."""

    def __init__(self, rate: Rate, max_names: int = 100_000) -> None:
        self.rate = rate
        self.max_names = max_names
        self._hits: dict[str, deque[float]] = {}

    def retry_after(self, name: str, now: float | None = None) -> int:
        """0 when ``name`` may go now, else the whole seconds until it may."""
        now = time.monotonic() if now is None else now
        hits = self._hits.get(name)
        if not hits:
            return 0
        while hits and hits[0] <= now - self.rate.seconds:
            hits.popleft()
        if len(hits) < self.rate.count:
            return 0
        return max(1, math.ceil(hits[0] + self.rate.seconds - now))

    def hit(self, name: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        if name not in self._hits and len(self._hits) >= self.max_names:
            self._prune(now)
        self._hits.setdefault(name, deque()).append(now)

    def _prune(self, now: float) -> None:
        cutoff = now - self.rate.seconds
        self._hits = {k: v for k, v in self._hits.items() if v and v[-1] > cutoff}
        if len(self._hits) >= self.max_names:
            self._hits.clear()
