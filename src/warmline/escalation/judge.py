"""Optional language-model judge: a second opinion on the escalation decision, never required.

When ``WARMLINE_LLM_BASE_URL`` / ``WARMLINE_LLM_MODEL`` point at an OpenAI-compatible
``/chat/completions`` endpoint and the policy's ``[judge] mode`` is not ``off``, the engine asks
it for an opinion in a fixed JSON schema (``OPINION_SCHEMA``: outcome, reason, confidence, the
turn's evidence). The policy decides how it counts (see ``EscalationEngine._consult``):

- ``tie_break``: only when the local decision's confidence is below ``tie_band``; the judge's
  outcome wins (explicit requests and policy rules are never overturned);
- ``veto_unnecessary``: a confident "no handoff" (>= ``veto_confidence``) cancels a handoff
  that is not an explicit request or a policy rule.

Any failure (connection, timeout, HTTP error, text that is not the schema) raises
``LLMError``; the engine then keeps its own decision and records ``llm_judge_unavailable``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from warmline.domain.packet import ReasonCategory
from warmline.escalation.llm import ChatEndpoint, LLMError, LLMSettings

OPINION_SCHEMA: dict = {
    "type": "object",
    "additionalProperties": False,
    "required": ["outcome", "reason", "confidence", "evidence"],
    "properties": {
        "outcome": {"type": "string", "enum": ["answer", "clarify", "next_step", "escalate"]},
        "reason": {"type": ["string", "null"], "enum": [*(r.value for r in ReasonCategory), None]},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        "evidence": {"type": "string", "description": "the buyer's words this opinion rests on"},
    },
}
SYSTEM_PROMPT = (
    "You review a B2B product assistant's decision on the buyer's last message. Outcomes: answer, "
    "clarify, next_step (shortlist, comparison, document), escalate (hand to a human). Escalation "
    "reasons: explicit_request (buyer asks for a person), policy_rule (configured business rule: "
    "quantity threshold, regulated product, account tier, discontinued replacement), purchase_intent "
    "(wants to buy, a quote, volumes), live_data (stock, account price, lead time to a place, status "
    "of an existing order or quote), complexity (system design, conflicting requirements, loops, "
    "frustration, exceptions), low_confidence (the catalog cannot ground an answer). Do not escalate "
    "routine lookups, document requests or first comparisons. Reply with JSON only, in the schema."
)


class Opinion(BaseModel):
    """The judge's answer, validated against the schema."""

    model_config = ConfigDict(extra="forbid")

    outcome: Literal["answer", "clarify", "next_step", "escalate"]
    reason: ReasonCategory | None = None
    confidence: float = Field(ge=0, le=1)
    evidence: str = Field(default="", max_length=2000)


class LLMJudge(ChatEndpoint):
    """Asks ``POST {base_url}/chat/completions`` for an ``Opinion`` (structured output)."""

    def __init__(self, base_url: str, model: str, api_key: str = "", timeout: float = 4.0) -> None:
        super().__init__(base_url, model, api_key, timeout, what="a language-model judge")

    @classmethod
    def from_settings(cls, settings: LLMSettings | None = None, timeout: float = 4.0) -> LLMJudge | None:
        """A judge when an endpoint is configured, else None."""
        settings = settings or LLMSettings()
        if not settings.base_url or not settings.model:
            return None
        return cls(settings.base_url, settings.model, settings.api_key, timeout)

    async def opinion(self, transcript: Sequence[tuple[str, str]], local: str) -> Opinion:
        """The judge's opinion on the last buyer message; raises LLMError on any failure."""
        lines = "\n".join(f"{who}: {body[:1500]}" for who, body in transcript[-12:])
        body = {
            "model": self.model,
            "temperature": 0,
            "messages": [
                {"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": f"Transcript:\n{lines}\n\nLocal engine decided: {local}"},
            ],
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "escalation_opinion", "strict": True, "schema": OPINION_SCHEMA},
            },
        }
        try:
            content = await self._content(body)
            return Opinion.model_validate(json.loads(content))
        except (httpx.HTTPError, KeyError, IndexError, TypeError, ValueError, ValidationError) as exc:
            raise LLMError(f"language-model judge at {self.base_url} failed: {exc}") from exc
