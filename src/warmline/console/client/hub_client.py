"""The console's only door to the hub: typed REST calls over one long-lived httpx client.

Widgets never speak HTTP; the session calls these coroutines and gets domain models
back, or a ``HubError`` that carries what the console needs to tell the user (status,
code, sentence, and who holds a claim).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx

from warmline.console.client.backoff import full_jitter
from warmline.domain.assist import AssistJob, AssistJobPage, AssistRequest
from warmline.domain.history import HistoryPage
from warmline.domain.models import (
    AgentRef,
    Handoff,
    HandoffDetail,
    HandoffPage,
    Me,
    Message,
    NewMessage,
)

DEFAULT_TIMEOUT = httpx.Timeout(15.0, connect=5.0)
# Transport failures worth retrying for idempotent (or idempotency-keyed) requests.
_RETRYABLE = (httpx.ConnectError, httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError)


class HubError(Exception):
    """A request the hub answered with an error, or could not be reached (status 0)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        owner: AgentRef | None = None,
        closest: list[str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.owner = owner
        self.closest = list(closest or [])  # "did you mean" SKUs of a 422, from its own field

    @classmethod
    def from_response(cls, response: httpx.Response) -> HubError:
        """Parse the hub's error body (ErrorDetail, or FastAPI's 422 list) into one error."""
        code, message, owner = "http_error", response.reason_phrase or "error", None
        closest: list[str] = []
        try:
            body = response.json()
        except ValueError:
            body = None
        detail = body.get("detail") if isinstance(body, dict) else None
        if isinstance(detail, dict):
            code = str(detail.get("code") or code)
            message = str(detail.get("message") or message)
            if isinstance(detail.get("owner"), dict):
                owner = AgentRef.model_validate(detail["owner"])
        elif isinstance(detail, list):
            code = "validation_error"
            parts = []
            for item in detail:
                if isinstance(item, dict):
                    loc = ".".join(str(p) for p in item.get("loc", []) if p != "body")
                    parts.append(f"{loc}: {item.get('msg', '')}" if loc else str(item.get("msg", "")))
                    closest += _closest_field(item)
            message = "; ".join(parts) or message
        elif isinstance(detail, str):
            message = detail
        if isinstance(detail, dict):
            closest += _closest_field(detail)
        return cls(response.status_code, code, message, owner, list(dict.fromkeys(closest)))


def _closest_field(item: dict[str, Any]) -> list[str]:
    """The SKUs an error item suggests, from a structured field ("closest", at the top or in
    "ctx"), when the hub sends one."""
    for holder in (item, item.get("ctx")):
        if isinstance(holder, dict) and isinstance(holder.get("closest"), list):
            return [str(s) for s in holder["closest"] if isinstance(s, str | int)]
    return []


class HubClient:
    """Typed coroutines for the hub's /v1 routes, sharing one connection pool."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.http = httpx.AsyncClient(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {token}", "User-Agent": "warmline-console"},
            timeout=timeout,
            transport=transport,
        )

    async def aclose(self) -> None:
        """Close the pool; the session calls this last, after its tasks are done."""
        await self.http.aclose()

    async def _request(
        self,
        method: str,
        path: str,
        *,
        retries: int = 0,
        **kwargs: Any,
    ) -> bytes:
        """The answer's JSON bytes (typed methods parse them with pydantic's fast JSON path)."""
        attempt = 0
        while True:
            try:
                response = await self.http.request(method, path, **kwargs)
            except _RETRYABLE as exc:
                if attempt >= retries:
                    raise HubError(0, "unreachable", f"cannot reach the hub: {exc}") from exc
                attempt += 1
                await asyncio.sleep(full_jitter(attempt, 0.25, 2.0))  # jittered: consoles don't stampede
                continue
            except httpx.TimeoutException as exc:
                raise HubError(
                    0, "timeout", f"the hub did not answer in time ({type(exc).__name__})"
                ) from exc
            if response.status_code >= 400:
                raise HubError.from_response(response)
            return response.content

    async def me(self) -> Me:
        """Who this token is (an agent and their skills, for the expertise filter)."""
        return Me.model_validate_json(await self._request("GET", "/v1/me", retries=2))

    async def list_handoffs(
        self,
        *,
        status: tuple[str, ...] = ("queued", "claimed"),
        q: str | None = None,
        limit: int = 20000,
    ) -> HandoffPage:
        """The queue snapshot plus the event id to stream from."""
        params: dict[str, Any] = {"status": ",".join(status), "limit": limit}
        if q:
            params["q"] = q
        data = await self._request("GET", "/v1/handoffs", params=params, retries=2)
        return HandoffPage.model_validate_json(data)

    async def find_conversations(
        self, q: str = "", *, status: str | None = None, limit: int = 50
    ) -> HistoryPage:
        """The History view: conversations found by company, buyer, SKU or message text."""
        params: dict[str, Any] = {"limit": limit}
        if q.strip():
            params["q"] = q.strip()
        if status:
            params["status"] = status
        data = await self._request("GET", "/v1/conversations", params=params, retries=1)
        return HistoryPage.model_validate_json(data)

    async def reopen(self, conversation_id: str) -> Handoff:
        """Reopen a resolved conversation the buyer wrote in again: a new handoff, mine."""
        data = await self._request("POST", f"/v1/conversations/{conversation_id}/reopen")
        return Handoff.model_validate_json(data)

    async def get_handoff(self, handoff_id: str) -> HandoffDetail:
        """One handoff with its packet and the full transcript."""
        return HandoffDetail.model_validate_json(
            await self._request("GET", f"/v1/handoffs/{handoff_id}", retries=2)
        )

    async def claim(self, handoff_id: str) -> Handoff:
        """Take the handoff; a lost race raises HubError(409, already_claimed, owner=...)."""
        return Handoff.model_validate_json(await self._request("POST", f"/v1/handoffs/{handoff_id}/claim"))

    async def release(self, handoff_id: str) -> Handoff:
        """Put a handoff I hold back in the queue."""
        return Handoff.model_validate_json(await self._request("POST", f"/v1/handoffs/{handoff_id}/release"))

    async def resolve(self, handoff_id: str, review: dict[str, Any] | None = None) -> Handoff:
        """Close a handoff I hold (``review``: outcome and review fields, docs/metrics.md)."""
        extra: dict[str, Any] = {"json": review} if review else {}
        path = f"/v1/handoffs/{handoff_id}/resolve"
        return Handoff.model_validate_json(await self._request("POST", path, **extra))

    async def post_message(
        self,
        conversation_id: str,
        body: str,
        *,
        idempotency_key: str | None = None,
        internal: bool = False,
        retries: int = 3,
    ) -> Message:
        """Reply in the buyer's thread; the key makes transport retries safe (no duplicates).

        ``retries`` covers transport errors only; the console's outbox passes 0 and runs its
        own backoff (docs/api.md, "The console's outbox").
        """
        key = idempotency_key or new_idempotency_key()
        payload = NewMessage(body=body, internal=internal).model_dump(mode="json", exclude_none=True)
        data = await self._request(
            "POST",
            f"/v1/conversations/{conversation_id}/messages",
            json=payload,
            headers={"Idempotency-Key": key},
            retries=retries,
        )
        return Message.model_validate_json(data)

    async def typing(self, conversation_id: str) -> None:
        """Tell the buyer (web widget) that I am typing in this conversation (no retries)."""
        await self._request("POST", f"/v1/conversations/{conversation_id}/typing", json={})

    # --- assistant (issue 5): jobs on a handoff, and catalog search for SKU completion ---------

    async def start_assist(
        self, handoff_id: str, request: AssistRequest, *, idempotency_key: str
    ) -> AssistJob:
        """Start a lookup (202, queued); the key makes a retried POST return the same job."""
        data = await self._request(
            "POST",
            f"/v1/handoffs/{handoff_id}/assist",
            json=request.model_dump(mode="json", exclude_none=True),
            headers={"Idempotency-Key": idempotency_key},
            retries=2,
        )
        return AssistJob.model_validate_json(data)

    async def list_assist(self, handoff_id: str) -> AssistJobPage:
        """Every lookup run on this handoff so far (shown again when it is reopened)."""
        data = await self._request("GET", f"/v1/handoffs/{handoff_id}/assist", retries=2)
        return AssistJobPage.model_validate_json(data)

    async def get_assist(self, job_id: str) -> AssistJob:
        return AssistJob.model_validate_json(await self._request("GET", f"/v1/assist/{job_id}", retries=2))

    async def cancel_assist(self, job_id: str) -> AssistJob:
        """Ask the hub to stop a job; the answer is the job as it stands (cancelled, or already done)."""
        return AssistJob.model_validate_json(
            await self._request("POST", f"/v1/assist/{job_id}/cancel", retries=2)
        )

    async def catalog_search(self, q: str, *, limit: int = 10) -> list[dict[str, Any]]:
        """Catalog hits as plain dicts (sku, name, family, status...): the console keeps no catalog types."""
        data = await self._request("GET", "/v1/catalog/search", params={"q": q, "limit": limit}, retries=1)
        hits = json.loads(data)
        return [h for h in hits if isinstance(h, dict)] if isinstance(hits, list) else []


def new_idempotency_key() -> str:
    """A fresh key for one outgoing message."""
    return f"console-{uuid.uuid4().hex}"
