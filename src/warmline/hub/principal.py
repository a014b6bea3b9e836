"""Who is calling: an agent (specialist), a bot, or a buyer bound to one conversation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from warmline.domain.models import Agent, PrincipalKind


@dataclass(frozen=True)
class Principal:
    kind: PrincipalKind
    token_id: str
    name: str
    agent: Agent | None = None
    conversation_id: str | None = None
    expires_at: datetime | None = None  # the token's expiry (a rotation's grace; lifecycle)

    @property
    def key(self) -> str:
        """A stable id for scoping idempotency keys to this caller."""
        if self.agent is not None:
            return f"agent:{self.agent.id}"
        return f"{self.kind.value}:{self.token_id}"
