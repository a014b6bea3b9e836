"""Optional language model: an OpenAI-compatible chat endpoint that words the AI's replies.

Deterministic by default. When configured (``WARMLINE_LLM_BASE_URL``, ``WARMLINE_LLM_MODEL``,
``WARMLINE_LLM_API_KEY``; a local Ollama, vLLM or llama.cpp server works) it rephrases
the deterministic reply. Facts still come from the catalog and the packet builder: the
engine keeps the deterministic text when the endpoint fails or the rephrasing drops a
SKU or a number.
"""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

SYSTEM_PROMPT = (
    "You are the product assistant of an industrial B2B supplier. Rewrite the draft reply so it reads "
    "naturally and politely. Keep every part number, number, unit and document title exactly as written. "
    "Add no facts. Keep a question a question and a statement a statement. Answer with the reply only."
)


class LLMSettings(BaseSettings):
    """Where the optional language model lives; unset base URL means no model."""

    model_config = SettingsConfigDict(env_prefix="WARMLINE_LLM_", extra="ignore")

    base_url: str = ""
    model: str = ""
    api_key: str = ""
    timeout_seconds: float = Field(default=20.0, gt=0)


class LLMError(RuntimeError):
    """The endpoint failed or answered something unusable."""


class ChatEndpoint:
    """A client of an OpenAI-compatible ``POST {base_url}/chat/completions`` endpoint
    (``ChatPhraser`` here, ``LLMJudge`` in warmline.escalation.judge)."""

    def __init__(
        self, base_url: str, model: str, api_key: str, timeout: float, *, what: str = "a language model"
    ) -> None:
        if not base_url or not model:
            raise ValueError(f"base_url and model are required for {what}")
        self.base_url = base_url.rstrip("/")
        self.model = model
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.AsyncClient(timeout=timeout, headers=headers)

    async def _content(self, body: dict[str, Any]) -> Any:
        """The first choice's message content; the HTTP, JSON or shape error as it comes."""
        response = await self._client.post(f"{self.base_url}/chat/completions", json=body)
        response.raise_for_status()
        return response.json()["choices"][0]["message"]["content"]

    async def aclose(self) -> None:
        await self._client.aclose()


class ChatPhraser(ChatEndpoint):
    """Words replies through ``POST {base_url}/chat/completions`` (the OpenAI chat API)."""

    def __init__(self, base_url: str, model: str, api_key: str = "", timeout: float = 20.0) -> None:
        super().__init__(base_url, model, api_key, timeout)

    @classmethod
    def from_settings(cls, settings: LLMSettings | None = None) -> ChatPhraser | None:
        """A phraser when a base URL and model are configured, else None (deterministic)."""
        settings = settings or LLMSettings()
        if not settings.base_url or not settings.model:
            return None
        return cls(settings.base_url, settings.model, settings.api_key, settings.timeout_seconds)

    async def rephrase(self, draft: str, *, outcome: str = "") -> str:
        """The draft, reworded by the model; raises LLMError on any failure."""
        body = {
            "model": self.model,
            "temperature": 0,
            "messages": [
                {"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": f"Kind of reply: {outcome or 'reply'}\nDraft:\n{draft}"},
            ],
        }
        try:
            content = await self._content(body)
        except (httpx.HTTPError, KeyError, IndexError, TypeError, ValueError) as exc:
            raise LLMError(f"language model at {self.base_url} failed: {exc}") from exc
        if not isinstance(content, str) or not content.strip():
            raise LLMError(f"language model at {self.base_url} returned an empty reply")
        return content.strip()
