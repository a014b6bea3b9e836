"""The session's assistant half: lookups on a handoff, their cancel, automatic ones on opening,
and SKU completion. A mixin of ``Session`` (it uses the session's client, task keeping and
AssistModel); kept apart so each file has one job.

Lookups typed while the hub is unreachable wait for it (the card says "Waiting for the hub…")
and are sent, with the same idempotency key, when it is back, instead of failing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from typing import TYPE_CHECKING, Any

from warmline.console.client import HubError, new_idempotency_key
from warmline.console.client.backoff import Backoff
from warmline.console.models.assist_model import AssistEntry
from warmline.domain.assist import AssistKind, AssistRequest
from warmline.domain.models import EventType, HandoffDetail

if TYPE_CHECKING:
    from warmline.console.client import HubClient
    from warmline.console.models.assist_model import AssistModel

log = logging.getLogger(__name__)


class SessionAssist:
    """Assistant lookups for ``Session`` (mixin: ``self`` is the session)."""

    if TYPE_CHECKING:  # provided by Session
        client: HubClient
        assist: AssistModel
        backoff: tuple[float, float]
        hub_online: asyncio.Event
        assist_checked: set[str]
        auto_assist_delay: float
        _current_id: str | None
        _sku_search: asyncio.Task[Any] | None

        def spawn(self, coro: Any, name: str = "") -> asyncio.Task[Any] | None: ...

    def start_assist(
        self,
        request: AssistRequest,
        *,
        handoff_id: str | None = None,
        auto: bool = False,
        key: str | None = None,
    ) -> str | None:
        """Start a lookup on a handoff (the current one by default); returns its entry key, at once."""
        hid = handoff_id or self._current_id
        if hid is None:
            return None
        key = key or f"assist-{new_idempotency_key()}"
        self.assist.add_pending(key, hid, request, auto=auto)
        self.spawn(self._submit_assist(hid, request, key), f"assist-submit-{key}")
        return key

    async def _submit_assist(self, handoff_id: str, request: AssistRequest, key: str) -> None:
        retry = Backoff(*self.backoff)
        while True:
            try:
                job = await self.client.start_assist(handoff_id, request, idempotency_key=key)
                break
            except HubError as exc:
                if exc.status not in (0, 502, 503, 504):
                    message, closest = _refusal(exc)
                    self.assist.refuse(key, message, closest)
                    return
                # offline (or the hub restarting): wait for it, then the same POST, same key
                pending = self.assist.entry(key)
                if pending is None or pending.cancel_requested:
                    self.assist.refuse(key, "Cancelled while waiting for the hub.")
                    return
                self.assist.set_waiting(key, True)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.hub_online.wait(), retry.next())
        self.assist.set_waiting(key, False)
        entry = self.assist.apply_job(job, key=key)
        if entry.cancel_requested and not entry.finished:
            await self._cancel_assist(entry)

    def cancel_assist(self, key: str) -> None:
        """Stop a lookup (by entry key or job id); a job not created yet is cancelled once it is."""
        entry = self.assist.entry(key) or self.assist.by_job(key)
        if entry is None or entry.finished or entry.cancel_requested:
            return
        self.assist.mark_cancel_requested(entry.key)
        if entry.job is not None:
            self.spawn(self._cancel_assist(entry), f"assist-cancel-{entry.key}")

    async def _cancel_assist(self, entry: AssistEntry) -> None:
        assert entry.job is not None
        try:
            job = await self.client.cancel_assist(entry.job.id)
        except HubError as exc:
            if exc.status == 409:  # it finished first: show how it ended
                with contextlib.suppress(HubError):
                    self.assist.apply_job(await self.client.get_assist(entry.job.id))
                return
            entry.cancel_requested = False
            self.assist.changed.emit(entry)
            self.notice.emit("warning", f"Could not cancel the lookup: {exc.message}")
            return
        self.assist.apply_job(job)

    async def _load_assist(self, detail: HandoffDetail) -> None:
        """Earlier lookups of this handoff, then the automatic ones it has not had yet."""
        try:
            await self._load_assist_once(detail)
        finally:
            self.assist_checked.add(detail.id)

    async def _load_assist_once(self, detail: HandoffDetail) -> None:
        try:
            page = await self.client.list_assist(detail.id)
        except HubError as exc:
            log.warning("could not list assistant jobs of %s: %s", detail.id, exc)
            return
        self.assist.apply_many(page.items)
        if self.auto_assist_delay:
            await asyncio.sleep(self.auto_assist_delay)  # skimming the queue starts nothing
        if self._current_id != detail.id:
            return
        for request in auto_requests(detail):
            if self.assist.find(detail.id, request) is not None:
                continue  # done already (or running) for this handoff: shown from the list
            key = f"auto-{detail.id}-{request.kind.value}-{'+'.join(request.skus)}"[:200]
            if self.assist.entry(key) is not None or any(
                e.request == request for e in self.assist.entries(detail.id)
            ):
                key = None  # asked before (and failed or was cancelled): a fresh job, not a replay
            self.start_assist(request, handoff_id=detail.id, auto=True, key=key)

    def assist_idle(self, handoff_id: str) -> bool:
        """Its earlier lookups are loaded, the automatic ones started, and none is still running."""
        return handoff_id in self.assist_checked and not self.assist.active(handoff_id)

    def search_skus(self, prefix: str, limit: int = 8) -> None:
        """Catalog hits for SKU completion; the latest request wins (sku_hits(prefix, hits))."""
        if self._sku_search is not None and not self._sku_search.done():
            self._sku_search.cancel()
        self._sku_search = self.spawn(self._search_skus(prefix, limit), "assist-sku-search")

    async def _search_skus(self, prefix: str, limit: int) -> None:
        # The catalog's search is full text, not a SKU prefix search ("GX-2" finds GX-240 only),
        # so the SKU's leading letters ("GX") are searched too, wider; the panel keeps the
        # hits that start like what was typed.
        queries = [(prefix, limit)]
        head = re.split(r"[^0-9A-Za-z]", prefix, maxsplit=1)[0]
        if head and head != prefix:
            queries.append((head, 50))
        hits: list[dict[str, Any]] = []
        for q, n in queries:
            try:
                hits += await self.client.catalog_search(q, limit=n)
            except HubError as exc:
                log.info("SKU completion search failed: %s", exc)
        if hits:
            self.sku_hits.emit(prefix, hits)


ASSIST_EVENTS = frozenset(
    {
        EventType.ASSIST_STARTED,
        EventType.ASSIST_PROGRESS,
        EventType.ASSIST_COMPLETED,
        EventType.ASSIST_FAILED,
        EventType.ASSIST_CANCELLED,
    }
)
AUTO_ASSIST_DELAY = 0.4  # seconds a handoff stays open before its automatic lookups start
AUTO_SPEC_MAX = 6
AUTO_SUBS_MAX = 2
# the reason involves a discontinued part, unavailability or a replacement
_SUBS_TRIGGER = re.compile(
    r"discontinu|supersed|obsolete|end[ -]of[ -]life|\beol\b|replac|substitut|successor|"
    r"unavailab|not available|no longer (?:available|made|sold)|out of stock|sold out|backorder",
    re.IGNORECASE,
)


def auto_requests(detail: HandoffDetail) -> list[AssistRequest]:
    """What opening a handoff looks up by itself: spec sheets for its SKUs, and substitutes
    when the reason involves a discontinued part, unavailability or a replacement."""
    packet = detail.packet
    skus = list(dict.fromkeys(p.sku for p in packet.products))
    if not skus:
        return []
    out = [AssistRequest(kind=AssistKind.SPEC, skus=skus[:AUTO_SPEC_MAX])]
    reason_text = " ".join([packet.sub_reason.replace("_", " "), packet.summary, *packet.signals])
    worded = bool(_SUBS_TRIGGER.search(reason_text))
    gone = [p.sku for p in packet.products if p.role == "discontinued"]
    if gone or worded:
        current = [p.sku for p in packet.products if p.role == "current"]
        targets = gone or current or skus[:1]
        for sku in list(dict.fromkeys(targets))[:AUTO_SUBS_MAX]:
            out.append(AssistRequest(kind=AssistKind.SUBSTITUTES, skus=[sku]))
    return out


def _refusal(exc: HubError) -> tuple[str, list[str]]:
    """A refused POST as one sentence, and the SKUs the hub suggests: its structured field when
    the error carries one, else read from the message ("closest: A, B")."""
    closest: list[str] = list(exc.closest)
    match = re.search(r"closest: ([^;]+)", exc.message)
    if match and not closest:
        closest = [s.strip() for s in match.group(1).split(",") if s.strip()]
    message = re.sub(r";\s*closest: [^;]+", "", exc.message).strip()
    message = re.sub(r"^(skus|constraints)\.\d+: ", "", message)
    if exc.status == 0:
        message = f"The hub could not be reached: {message}"
    return (message[:1].upper() + message[1:]) if message else "The hub refused this lookup.", closest
