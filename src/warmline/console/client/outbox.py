"""The console's outbox: replies are written to disk before they are sent, and sent exactly once.

When the specialist presses Send, the reply gets an idempotency key and is appended to a
JSON-lines file (fsync'd) **before** the first attempt. A sender task drains the file in
order, retrying transient failures (no connection, timeouts, 408, 429, 5xx) with jittered
backoff and the same key, so the hub creates the message once however many attempts reach
it. Permanent refusals (other 4xx: not your claim, too large, invalid...) are kept as
*failed* with the hub's reason until the specialist retries or discards them, and a failed
reply holds back the later replies to the same conversation (marked *held*), so the buyer
never reads them out of order; other conversations' replies still go. The file
survives a restart: pending entries are reloaded and sent.

One file per hub URL and agent, under the user data dir (``outbox_path``). Each line is one
record: ``add`` (the reply), ``sent`` (with the message id), ``failed`` (reason), ``retry``,
``discard``. A torn last line (a crash mid-write) is ignored and cut off; a file with only
dead records is compacted (rewritten atomically, or removed when nothing is left).

No Qt here: the session turns the callbacks into model updates.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import httpx

from warmline.console.client.backoff import Backoff
from warmline.console.client.hub_client import HubError
from warmline.domain.models import Message

try:  # advisory lock so two consoles of one agent do not compact each other's file
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
COMPACT_AFTER_DEAD = 64  # rewrite the file once this many records describe nothing live


class EntryState(StrEnum):
    PENDING = "pending"  # written, not tried yet (or retried by the user)
    SENDING = "sending"  # a POST is in flight
    WAITING = "waiting"  # the last attempt failed transiently; another follows
    FAILED = "failed"  # the hub refused it for good; kept until retried or discarded


@dataclass
class OutboxEntry:
    key: str
    conversation_id: str
    handoff_id: str | None
    agent_id: str | None
    body: str
    created_at: datetime
    order: int = 0
    state: EntryState = EntryState.PENDING
    attempts: int = 0
    error: str = ""  # the reason shown for WAITING / FAILED
    status: int | None = None  # the hub's HTTP status for the last failure (0 = unreachable)
    code: str = ""
    retry_at: float | None = None  # wall-clock time of the next attempt while WAITING
    held: bool = False  # an earlier reply to this conversation failed: this one waits behind it

    def snapshot(self) -> OutboxEntry:
        return replace(self)


def is_transient(status: int) -> bool:
    """Worth retrying with the same key: unreachable/timeout (0), 408, 429 and any 5xx."""
    return status == 0 or status >= 500 or status in (408, 429)


def outbox_dir() -> Path:
    """Where outbox files live: ``$WARMLINE_OUTBOX_DIR`` or ``<user data dir>/warmline/outbox``."""
    override = os.environ.get("WARMLINE_OUTBOX_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_data_dir("warmline")) / "outbox"


def outbox_path(directory: Path, hub_url: str, agent_id: str) -> Path:
    """One file per hub and agent (a readable prefix plus a hash of both)."""
    digest = hashlib.sha256(f"{hub_url.rstrip('/')}\n{agent_id}".encode()).hexdigest()[:16]
    safe_agent = "".join(c if c.isalnum() or c in "-_" else "_" for c in agent_id)[:40]
    return directory / f"{safe_agent}-{digest}.jsonl"


class OutboxLocked(RuntimeError):
    """Another console process has this outbox open."""


class Outbox:
    """The replies not yet confirmed by the hub, in the order they were written, on disk."""

    def __init__(self, path: Path, *, lock: bool = True) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._entries: dict[str, OutboxEntry] = {}
        self._next_order = 0
        self._dead = 0  # records in the file that describe nothing live
        self.skipped_lines = 0  # unreadable lines seen when loading (a torn tail, corruption)
        self._lock_fd: int | None = None
        if lock:
            self._lock()
        self._fh: Any = None  # opened on the first append (no file while nothing is queued)
        self._load()
        self.compact()

    # --- file ------------------------------------------------------------------------------

    def _lock(self) -> None:
        if fcntl is None:
            return
        fd = os.open(f"{self.path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            raise OutboxLocked(f"{self.path} is in use by another console") from exc
        self._lock_fd = fd

    def _load(self) -> None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return
        end = raw.rfind(b"\n") + 1
        if end < len(raw):  # a torn last line: the crash happened mid-append; it was never acked
            self.skipped_lines += 1
            log.warning("outbox %s: ignoring a torn last line (%d bytes)", self.path, len(raw) - end)
            with open(self.path, "r+b") as fh:
                fh.truncate(end)
                fh.flush()
                os.fsync(fh.fileno())
        for line in raw[:end].splitlines():
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                self._apply(record)
            except (ValueError, KeyError, TypeError) as exc:
                self.skipped_lines += 1
                log.warning("outbox %s: skipping an unreadable line (%s)", self.path, exc)

    def _apply(self, record: dict[str, Any]) -> None:
        op = record["op"]
        key = record["key"]
        if op == "add":
            if key in self._entries:
                return
            self._entries[key] = OutboxEntry(
                key=key,
                conversation_id=record["conversation_id"],
                handoff_id=record.get("handoff_id"),
                agent_id=record.get("agent_id"),
                body=record["body"],
                created_at=datetime.fromisoformat(record["created_at"]),
                order=self._next_order,
            )
            self._next_order += 1
            return
        entry = self._entries.get(key)
        self._dead += 1
        if entry is None:
            return
        if op in ("sent", "discard"):
            del self._entries[key]
            self._dead += 1  # its add record is dead now too
        elif op == "failed":
            entry.state = EntryState.FAILED
            entry.error = record.get("reason", "")
            entry.status = record.get("status")
            entry.code = record.get("code", "")
        elif op == "retry":
            entry.state = EntryState.PENDING
            entry.error, entry.status, entry.code = "", None, ""

    def _append(self, record: dict[str, Any], *, sync: bool = True) -> None:
        line = json.dumps({"v": FORMAT_VERSION, **record}, ensure_ascii=False, separators=(",", ":"))
        if self._fh is None:
            self._fh = _open_append(self.path)
        start = self._fh.tell()
        try:
            self._fh.write(line.encode() + b"\n")
            self._fh.flush()
            if sync:
                os.fsync(self._fh.fileno())
        except OSError:
            with contextlib.suppress(OSError):  # leave no half line for the next append to join
                self._fh.truncate(start)
            raise

    def compact(self) -> None:
        """Rewrite the file with only what is still live (atomically); remove it when empty."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        if not self._entries:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
        else:
            tmp = self.path.with_suffix(".jsonl.tmp")
            with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as out:
                for entry in self.entries():
                    out.write(json.dumps({"v": FORMAT_VERSION, **_add_record(entry)}).encode() + b"\n")
                    if entry.state == EntryState.FAILED:
                        record = _failed_record(entry)
                        out.write(json.dumps({"v": FORMAT_VERSION, **record}).encode() + b"\n")
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
            _fsync_dir(self.path.parent)
        self._dead = 0

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        if not self._entries:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
        if self._lock_fd is not None:
            if not self._entries:  # nothing left to guard: leave no lock file behind either
                with contextlib.suppress(OSError):
                    os.unlink(f"{self.path}.lock")
            os.close(self._lock_fd)
            self._lock_fd = None

    # --- entries ---------------------------------------------------------------------------

    def entries(self, conversation_id: str | None = None) -> list[OutboxEntry]:
        """Live entries (pending, waiting, sending, failed) in the order they were written."""
        items = sorted(self._entries.values(), key=lambda e: e.order)
        blocked: set[str] = set()
        for e in items:  # a failed reply holds back the later ones of its conversation
            e.held = e.state != EntryState.FAILED and e.conversation_id in blocked
            if e.state == EntryState.FAILED:
                blocked.add(e.conversation_id)
        if conversation_id is not None:
            items = [e for e in items if e.conversation_id == conversation_id]
        return items

    def get(self, key: str) -> OutboxEntry | None:
        return self._entries.get(key)

    def __len__(self) -> int:
        return len(self._entries)

    def next_to_send(self) -> OutboxEntry | None:
        """The oldest entry that is not failed nor held behind a failed one (the order per
        conversation is the order written)."""
        for entry in self.entries():
            if entry.state != EntryState.FAILED and not entry.held:
                return entry
        return None

    def add(
        self,
        *,
        key: str,
        conversation_id: str,
        body: str,
        handoff_id: str | None = None,
        agent_id: str | None = None,
    ) -> OutboxEntry:
        """Write a reply to disk (fsync'd) and queue it; the same key twice is one entry."""
        existing = self._entries.get(key)
        if existing is not None:
            return existing
        entry = OutboxEntry(
            key=key,
            conversation_id=conversation_id,
            handoff_id=handoff_id,
            agent_id=agent_id,
            body=body,
            created_at=datetime.now(UTC),
            order=self._next_order,
        )
        self._append(_add_record(entry))  # on disk first; raises OSError if it cannot be kept
        self._next_order += 1
        self._entries[key] = entry
        return entry

    def mark_sent(self, key: str, message_id: str) -> None:
        """Done: gone from memory first (even if the record below cannot be written)."""
        if self._entries.pop(key, None) is None:
            return
        # No fsync: if a crash loses this record, the reply is sent again after the restart with
        # its key, and the hub answers with the message it already has (nothing duplicated).
        self._append({"op": "sent", "key": key, "message_id": message_id}, sync=False)
        self._dead += 2
        self._maybe_compact()

    def mark_failed(self, key: str, reason: str, status: int | None = None, code: str = "") -> None:
        entry = self._entries.get(key)
        if entry is None:
            return
        entry.state, entry.error, entry.status, entry.code = EntryState.FAILED, reason, status, code
        entry.retry_at = None
        self._append(_failed_record(entry))  # state changed in memory first, as for mark_sent
        self._dead += 1

    def retry(self, key: str) -> OutboxEntry | None:
        """A failed entry goes back in line (same key: if it did land, the hub replays it)."""
        entry = self._entries.get(key)
        if entry is None or entry.state != EntryState.FAILED:
            return entry
        self._append({"op": "retry", "key": key})
        self._dead += 1
        entry.state, entry.error, entry.status, entry.code = EntryState.PENDING, "", None, ""
        entry.attempts = 0
        return entry

    def discard(self, key: str) -> bool:
        """Drop an entry that is not in flight (the user copied it or gave up)."""
        entry = self._entries.get(key)
        if entry is None or entry.state == EntryState.SENDING:
            return False
        del self._entries[key]
        self._append({"op": "discard", "key": key})
        self._dead += 2
        self._maybe_compact()
        return True

    def _maybe_compact(self) -> None:
        if not self._entries or self._dead >= COMPACT_AFTER_DEAD:
            self.compact()


def _add_record(entry: OutboxEntry) -> dict[str, Any]:
    return {
        "op": "add",
        "key": entry.key,
        "conversation_id": entry.conversation_id,
        "handoff_id": entry.handoff_id,
        "agent_id": entry.agent_id,
        "body": entry.body,
        "created_at": entry.created_at.isoformat(),
    }


def _failed_record(entry: OutboxEntry) -> dict[str, Any]:
    return {
        "op": "failed",
        "key": entry.key,
        "reason": entry.error,
        "status": entry.status,
        "code": entry.code,
    }


def _open_append(path: Path):
    """The file kept open for appends; private to the user (it holds reply texts)."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600), "ab")


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform can open a directory
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


PostReply = Callable[[OutboxEntry], Awaitable[Message]]


class OutboxSender:
    """Drains an outbox in order, one POST at a time, until cancelled."""

    def __init__(
        self,
        outbox: Outbox,
        post: PostReply,
        *,
        on_change: Callable[[OutboxEntry], None],
        on_sent: Callable[[OutboxEntry, Message], None],
        backoff: Backoff | None = None,
    ) -> None:
        self.outbox = outbox
        self.post = post
        self.on_change = on_change
        self.on_sent = on_sent
        self.backoff = backoff or Backoff(0.25, 5.0)
        self._wakeup = asyncio.Event()
        self._idle = False
        self.attempts = 0  # POSTs made (for tests and diagnostics)

    def notify(self) -> None:
        """Something new to send: start now if idle (a backoff in progress keeps its schedule)."""
        if self._idle:
            self._wakeup.set()

    def wake(self) -> None:
        """The hub is reachable again: retry now and start the backoff over."""
        self.backoff.reset()
        self._wakeup.set()

    async def _sleep(self, delay: float | None) -> None:
        self._wakeup.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wakeup.wait(), delay)

    async def run(self) -> None:
        while True:
            entry = self.outbox.next_to_send()
            if entry is None:
                self._idle = True
                try:
                    await self._sleep(None)
                finally:
                    self._idle = False
                continue
            try:
                delay = await self._attempt(entry)
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug or a full disk must not stop every later reply
                log.exception("outbox: sending %s failed unexpectedly", entry.key)
                if entry.state == EntryState.SENDING:
                    entry.state = EntryState.PENDING
                delay = self.backoff.next()
            if delay is not None:
                await self._sleep(delay)

    async def _attempt(self, entry: OutboxEntry) -> float | None:
        """One POST; returns how long to wait before the next one after a transient failure."""
        entry.state, entry.retry_at = EntryState.SENDING, None
        entry.attempts += 1
        self.attempts += 1
        self.on_change(entry.snapshot())
        try:
            message = await self.post(entry)
        except HubError as exc:
            if is_transient(exc.status):
                return self._wait(entry, exc.status, exc.code, exc.message)
            owner = f" ({exc.owner.name} holds it)" if exc.owner and exc.owner.name not in exc.message else ""
            try:
                self.outbox.mark_failed(entry.key, f"{exc.message}{owner}", exc.status, exc.code)
            except OSError:  # could not record it: still failed for this run (retried after a restart)
                log.exception("outbox: could not record the failure of %s", entry.key)
            self.on_change(entry.snapshot())
            return None
        except (httpx.HTTPError, OSError) as exc:
            return self._wait(entry, 0, "unreachable", f"{type(exc).__name__}: {exc}")
        except asyncio.CancelledError:
            if entry.state == EntryState.SENDING:
                entry.state = EntryState.PENDING
            raise
        self.backoff.reset()
        try:
            self.outbox.mark_sent(entry.key, message.id)
        except OSError:  # it is sent; if the record is lost a restart resends it with its key (replayed)
            log.exception("outbox: could not record %s as sent", entry.key)
        self.on_sent(entry.snapshot(), message)
        return None

    def _wait(self, entry: OutboxEntry, status: int, code: str, message: str) -> float:
        delay = self.backoff.next()
        entry.state, entry.status, entry.code, entry.error = EntryState.WAITING, status, code, message
        entry.retry_at = time.time() + delay
        self.on_change(entry.snapshot())
        return delay
