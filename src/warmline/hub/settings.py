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
    # Team rules (warmline.hub.assignment): None takes resources/policy.toml's [assignment]
    # (and a workspace override in WARMLINE_POLICY_FILE); `warmline hub --reply-timeout S
    # --idle-timeout S`. 0 turns one off. The sweep runs every assignment_sweep_s per instance.
    reply_timeout_s: float | None = Field(default=None, ge=0)
    idle_timeout_s: float | None = Field(default=None, ge=0)
    max_active_per_agent: int | None = Field(default=None, ge=0)
    assignment_sweep_s: float = Field(default=1.0, gt=0)
    # Data lifecycle (warmline.hub.lifecycle; docs/operations.md). Idempotency keys are
    # answered for this long, then swept; 0 = never expire.
    idempotency_ttl_s: float = Field(default=24 * 3600.0, ge=0)
    # Events older than this are removed from the log (streams resuming before the kept
    # range get a `reset` event); 0 = keep forever.
    event_retention_days: float = Field(default=30.0, ge=0)
    # How often each hub instance runs the sweeps, and how many rows one batch deletes.
    sweep_interval_s: float = Field(default=60.0, gt=0)
    sweep_batch: int = Field(default=250, gt=0, le=100_000)
    # How often each instance looks for revoked tokens and erased conversations (one
    # indexed read of a one-row table), so revocations reach every instance in seconds.
    revocation_poll_s: float = Field(default=1.0, gt=0)
    # `warmline tokens rotate`: how long the old token keeps working.
    token_rotation_grace_s: float = Field(default=24 * 3600.0, ge=0)
    # Buyer tokens stop working this long after their conversation's handoff is resolved,
    # bot tokens this long after they were issued (None: never; enforced by the sweep).
    buyer_token_ttl_after_resolve_s: float | None = Field(default=None, ge=0)
    bot_token_ttl_days: float | None = Field(default=None, ge=0)
    # The secret the hub's sealing key is derived from (idempotency replays keep buyer
    # tokens sealed with it). Unset: a random key created once in the database (hub_state).
    secret_key: str | None = None
