"""Assistant jobs per handoff, as plain state: one entry per lookup, updated from wherever news comes.

A job reaches the console several ways — the 202 answer to my POST, ``assist.*`` events on
the stream (possibly before that answer, possibly replayed after a reconnect), and the list
``GET /v1/handoffs/{id}/assist`` when a handoff is reopened — so every update goes through
one idempotent ``apply_job`` that keeps the newest state: status only moves forward
(queued -> running -> done | failed | cancelled) and progress never goes back.

An entry exists from the moment the specialist asks (``add_pending``, keyed by the
idempotency key of the POST), before the hub has named the job; the job id is attached
when it is known, from the answer or from an event carrying the same request.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, Signal

from warmline.domain.assist import AssistJob, AssistRequest, AssistStatus

_RANK = {
    AssistStatus.QUEUED: 0,
    AssistStatus.RUNNING: 1,
    AssistStatus.DONE: 2,
    AssistStatus.FAILED: 2,
    AssistStatus.CANCELLED: 2,
}

SUBMITTING = "submitting"  # asked, the hub has not answered the POST yet
REFUSED = "refused"  # the hub refused the POST (422 unknown SKU, 409...): no job exists


@dataclass
class AssistEntry:
    """One lookup as the panel shows it."""

    key: str  # stable for the entry's life: the POST's idempotency key, or the job id
    handoff_id: str
    request: AssistRequest
    job: AssistJob | None = None
    error: str | None = None  # why the hub refused the POST (only when status is REFUSED)
    closest: list[str] = field(default_factory=list)  # "did you mean" SKUs for a refused POST
    auto: bool = False  # started by the console on opening the handoff
    asked_at: float = field(default_factory=time.perf_counter)
    cancel_requested: bool = False
    waiting_for_hub: bool = False  # asked while the hub was unreachable: sent when it is back

    @property
    def job_id(self) -> str | None:
        return self.job.id if self.job else None

    @property
    def status(self) -> str:
        if self.job is not None:
            return self.job.status.value
        return REFUSED if self.error is not None else SUBMITTING

    @property
    def finished(self) -> bool:
        return self.job.status.finished if self.job is not None else self.error is not None

    @property
    def active(self) -> bool:
        return not self.finished


def newer(old: AssistJob, new: AssistJob) -> bool:
    """True when ``new`` is a later state of the same job than ``old`` (forward only)."""
    a, b = _RANK[old.status], _RANK[new.status]
    if b != a:
        return b > a
    if old.status.finished:
        return False  # terminal: the first terminal state wins (they never differ on the hub)
    return new.progress > old.progress or (new.progress == old.progress and new.stage != old.stage)


class AssistModel(QObject):
    """Entries by handoff, in the order they were asked for (oldest first)."""

    added = Signal(object)  # AssistEntry
    changed = Signal(object)  # AssistEntry
    removed = Signal(object)  # AssistEntry: a pending entry that turned out to be a known job
    reset = Signal(str)  # handoff id whose entries were replaced wholesale

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._entries: dict[str, AssistEntry] = {}  # key -> entry
        self._by_job: dict[str, str] = {}  # job id -> key
        self._by_handoff: dict[str, list[str]] = {}  # handoff id -> keys, oldest first
        self._held: dict[str, AssistJob] = {}  # job id -> latest state, until a POST answer names it
        self.agent_id: str | None = None  # who I am: only my jobs can answer my pending entries
        self.updates_applied = 0
        self.updates_ignored = 0

    # --- reading ----------------------------------------------------------------------

    def entries(self, handoff_id: str | None) -> list[AssistEntry]:
        if handoff_id is None:
            return []
        return [self._entries[k] for k in self._by_handoff.get(handoff_id, [])]

    def entry(self, key: str) -> AssistEntry | None:
        return self._entries.get(key)

    def by_job(self, job_id: str) -> AssistEntry | None:
        key = self._by_job.get(job_id)
        return self._entries.get(key) if key else None

    def active(self, handoff_id: str | None = None) -> list[AssistEntry]:
        pool = self.entries(handoff_id) if handoff_id else list(self._entries.values())
        return [e for e in pool if e.active]

    def find(self, handoff_id: str, request: AssistRequest) -> AssistEntry | None:
        """The latest entry of this handoff asking the same thing that did not fail or get cancelled."""
        for e in reversed(self.entries(handoff_id)):
            if _same(e.request, request) and e.status not in (
                AssistStatus.FAILED.value,
                AssistStatus.CANCELLED.value,
                REFUSED,
            ):
                return e
        return None

    # --- writing ----------------------------------------------------------------------

    def add_pending(
        self, key: str, handoff_id: str, request: AssistRequest, *, auto: bool = False
    ) -> AssistEntry:
        """The specialist asked; the POST is on its way."""
        existing = self._entries.get(key)
        if existing is not None:
            return existing
        entry = AssistEntry(key=key, handoff_id=handoff_id, request=request, auto=auto)
        self._insert(entry)
        return entry

    def refuse(self, key: str, message: str, closest: list[str] | None = None) -> None:
        """The hub refused the POST: the entry says why (and which SKUs were meant, if known)."""
        entry = self._entries.get(key)
        if entry is None or entry.job is not None:
            return
        entry.error = message
        entry.closest = list(closest or [])
        self.changed.emit(entry)
        self._release_held(entry.handoff_id)

    def set_waiting(self, key: str, waiting: bool) -> None:
        """The POST waits for the hub to be reachable again (or no longer does)."""
        entry = self._entries.get(key)
        if entry is not None and entry.waiting_for_hub != waiting:
            entry.waiting_for_hub = waiting
            self.changed.emit(entry)

    def mark_cancel_requested(self, key: str) -> None:
        entry = self._entries.get(key)
        if entry is not None and not entry.cancel_requested:
            entry.cancel_requested = True
            self.changed.emit(entry)

    def apply_job(self, job: AssistJob, *, key: str | None = None) -> AssistEntry | None:
        """Bring one job up to date (from a POST answer, an event, or a list); idempotent.

        An event about a job of mine that no entry names yet, while a POST asking the same
        thing is still unanswered, is held back (not guessed onto an entry) until that POST's
        answer says which job is whose; returns None then.
        """
        known = self._by_job.get(job.id)
        if known is not None and key is not None and key != known and key in self._entries:
            dup = self._entries[key]
            if dup.job is None:  # a replayed POST answered with a job we already show: one card
                self._drop(dup)
        if known is None and key is not None and key in self._entries:
            known = key  # my POST's answer names the job for my pending entry
            held = self._held.pop(job.id, None)
            if held is not None and newer(job, held):
                job = held  # an event got here first with a later state
        if known is None and key is None and self._awaited(job):
            old = self._held.get(job.id)
            if old is None or newer(old, job):
                self._held[job.id] = job
            return None
        if known is None:
            entry = AssistEntry(key=job.id, handoff_id=job.handoff_id, request=job.request, job=job)
            self._by_job[job.id] = job.id
            self._insert(entry)
            self.updates_applied += 1
            self._release_held(job.handoff_id)
            return entry
        entry = self._entries[known]
        self._by_job[job.id] = known
        if entry.job is not None and not newer(entry.job, job):
            self.updates_ignored += 1
        else:
            entry.job = job
            entry.error = None
            self.updates_applied += 1
            self.changed.emit(entry)
        if key is not None:
            self._release_held(job.handoff_id)
        return entry

    def apply_many(self, jobs: list[AssistJob]) -> None:
        for job in sorted(jobs, key=lambda j: (j.created_at, j.id)):
            self.apply_job(job)

    # --- internals --------------------------------------------------------------------

    def _awaited(self, job: AssistJob) -> bool:
        """Is this (unknown) job possibly the answer to one of my unanswered POSTs?"""
        if self.agent_id is not None and job.requested_by.id != self.agent_id:
            return False
        return any(
            e.job is None and e.error is None and _same(e.request, job.request)
            for e in self.entries(job.handoff_id)
        )

    def _release_held(self, handoff_id: str) -> None:
        """Held jobs no unanswered POST can claim any more (from my other console): show them."""
        for job_id, job in list(self._held.items()):
            if job.handoff_id == handoff_id and job_id not in self._by_job and not self._awaited(job):
                del self._held[job_id]
                self.apply_job(job)

    def _drop(self, entry: AssistEntry) -> None:
        self._entries.pop(entry.key, None)
        keys = self._by_handoff.get(entry.handoff_id, [])
        if entry.key in keys:
            keys.remove(entry.key)
        self.removed.emit(entry)

    def _insert(self, entry: AssistEntry) -> None:
        self._entries[entry.key] = entry
        self._by_handoff.setdefault(entry.handoff_id, []).append(entry.key)
        self.added.emit(entry)


def _same(a: AssistRequest, b: AssistRequest) -> bool:
    if a.kind != b.kind:
        return False
    return (
        [s.casefold() for s in a.skus] == [s.casefold() for s in b.skus]
        and (a.constraints or None) == (b.constraints or None)
        and (a.document or None) == (b.document or None)
        and (a.query or None) == (b.query or None)
        and (a.instructions or None) == (b.instructions or None)
    )
