"""The hub's settings, read from the environment (``WARMLINE_*``) with safe local defaults."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from warmline.storage.urls import default_database_url


class HubSettings(BaseSettings):
    """Everything the hub process needs to know; env vars use the prefix ``WARMLINE_``."""

    model_config = SettingsConfigDict(env_prefix="WARMLINE_", extra="ignore")

    database_url: str = Field(default_factory=default_database_url)
    host: str = "127.0.0.1"
    port: int = Field(default=8470, ge=0, le=65535)
    max_request_bytes: int = Field(default=1024 * 1024, gt=0)
    sse_keepalive_seconds: float = Field(default=15.0, gt=0)
    sse_poll_seconds: float = Field(default=2.0, gt=0)
    # False (WARMLINE_FAST_PATHS=0, or `warmline hub --no-fast-paths`): every request takes the
    # plain path -- no routes ahead of FastAPI's stack, no statements straight on the SQLite
    # driver, no PostgreSQL commit script -- for debugging; read once, when the hub starts.
    fast_paths: bool = True
