"""Background assistant jobs on handoffs: queue, run, cancel, record (issue 5, hub side).

A job is a row in ``assist_jobs``. ``POST /v1/handoffs/{id}/assist`` inserts it (status
``queued``, event ``assist.started``) and the ``AssistRunner`` of this hub process runs it as
an asyncio task (at most ``concurrency`` at a time). Every state change is a conditional
UPDATE in its own transaction with its event, so the database decides races:

* queued -> running (``assist.progress``, stage "starting"), then progress updates while running;
* running -> done, in ONE transaction with the internal note that records the result
  (a ``message.created`` event whose message has ``internal: true`` and ``assist_job_id``),
  and ``assist.completed``;
* running -> failed (``assist.failed``) when the lookup raises;
* queued|running -> cancelled (``assist.cancelled``) from the cancel endpoint, whichever
  hub instance receives it; a job that finishes after that finds no row to update and
  writes nothing (no note).

At start-up the runner marks jobs a previous process left queued or running as failed. On
SQLite the hub is one process, so that is every unfinished job. On PostgreSQL other live hub
instances may be running jobs of their own, so only jobs older than ``ORPHAN_AGE`` (well past
``JOB_TIMEOUT``, after which a live runner has failed them itself) are taken for orphans, at
start-up and by a sweep every ``SWEEP_INTERVAL`` seconds: a job whose instance was killed
outright ends failed within a few minutes instead of hanging forever.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from fastapi.exceptions import RequestValidationError
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from warmline.assist.lookups import AssistError, check_request, run_assist, with_sources
from warmline.catalog.service import CatalogService
from warmline.domain.assist import AssistJob, AssistJobPage, AssistRequest, AssistResult, AssistStatus
from warmline.domain.models import Agent, AgentRef, AuthorKind, EventType, HandoffStatus, Message
from warmline.domain.packet import HandoffPacket
from warmline.escalation.llm import ChatPhraser, LLMSettings
from warmline.hub import service
from warmline.hub.errors import Conflict, Forbidden, NotFound
from warmline.hub.store import repository as repo
from warmline.hub.store.db import Database, Tx, utcnow
from warmline.hub.store.tables import AssistJobRow, MessageRow

log = logging.getLogger(__name__)

ASSISTANT_AUTHOR = "Assistant"
ACTIVE = (AssistStatus.QUEUED.value, AssistStatus.RUNNING.value)
RESTARTED = "the hub restarted before this finished"
STOPPED = "the hub stopped before this finished"
DEFAULT_CONCURRENCY = 4
JOB_TIMEOUT = 120.0  # seconds; the language model has its own, shorter, timeout
MAX_PAGE = 200
ORPHAN_AGE = 300.0  # seconds; see the module docstring
SWEEP_INTERVAL = 60.0

_EVENT_FOR = {
    AssistStatus.DONE: EventType.ASSIST_COMPLETED,
    AssistStatus.FAILED: EventType.ASSIST_FAILED,
    AssistStatus.CANCELLED: EventType.ASSIST_CANCELLED,
}


class JobGone(Exception):
    """The job is no longer ours to update (cancelled, or failed by a restart)."""


# --- row <-> wire --------------------------------------------------------------------------


def job_model(row: AssistJobRow) -> AssistJob:
    return AssistJob(
        id=row.id,
        handoff_id=row.handoff_id,
        conversation_id=row.conversation_id,
        kind=row.kind,
        status=row.status,
        request=AssistRequest.model_validate(row.request),
        requested_by=AgentRef(id=row.requested_by, name=row.requested_by_name),
        created_at=row.created_at,
        finished_at=row.finished_at,
        progress=max(0.0, min(1.0, (row.progress or 0) / 1000)),
        stage=row.stage,
        result=AssistResult.model_validate(row.result) if row.result is not None else None,
        error=row.error,
        note_message_id=row.note_message_id,
    )


def _emit(tx: Tx, event: EventType, job: AssistJob) -> None:
    tx.emit(
        event,
        {"job": job.model_dump(mode="json")},
        conversation_id=job.conversation_id,
        handoff_id=job.handoff_id,
    )


async def _load(session: AsyncSession, job_id: str) -> AssistJobRow | None:
    return await session.get(AssistJobRow, job_id, populate_existing=True)


async def _set(tx: Tx, job_id: str, *, where: Sequence[str], values: dict[str, Any]) -> AssistJobRow | None:
    """Conditional UPDATE: change the job only while its status is one of ``where``."""
    result = await tx.session.execute(
        update(AssistJobRow)
        .where(AssistJobRow.id == job_id, AssistJobRow.status.in_(list(where)))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return await _load(tx.session, job_id)


# --- reads ---------------------------------------------------------------------------------


async def get_job(session: AsyncSession, job_id: str) -> AssistJob:
    row = await _load(session, job_id)
    if row is None:
        raise NotFound("assist job", job_id)
    return job_model(row)


async def list_jobs(session: AsyncSession, handoff_id: str, *, limit: int = 50) -> AssistJobPage:
    """A handoff's jobs, newest first (404 for an unknown handoff)."""
    if await repo.handoff(session, handoff_id) is None:
        raise NotFound("handoff", handoff_id)
    rows = (
        await session.scalars(
            select(AssistJobRow)
            .where(AssistJobRow.handoff_id == handoff_id)
            .order_by(AssistJobRow.created_at.desc(), AssistJobRow.id.desc())
            .limit(max(1, min(limit, MAX_PAGE)))
        )
    ).all()
    return AssistJobPage(items=[job_model(r) for r in rows])


# --- writes --------------------------------------------------------------------------------


async def create_job(tx: Tx, *, agent: Agent, handoff_id: str, request: AssistRequest) -> AssistJob:
    """Queue a job on a handoff that is not resolved (emits ``assist.started``)."""
    handoff = await repo.handoff(tx.session, handoff_id)
    if handoff is None:
        raise NotFound("handoff", handoff_id)
    if handoff.status == HandoffStatus.RESOLVED.value:
        raise Conflict("resolved", "this handoff is already resolved; reopen it to use the assistant")
    row = AssistJobRow(
        id=service.new_id("asj"),
        handoff_id=handoff.id,
        conversation_id=handoff.conversation_id,
        kind=request.kind.value,
        status=AssistStatus.QUEUED.value,
        request=request.model_dump(mode="json"),
        requested_by=agent.id,
        requested_by_name=agent.display_name or agent.name,
        created_at=utcnow(),
        finished_at=None,
        progress=0,
        stage="queued",
        result=None,
        error=None,
        note_message_id=None,
    )
    tx.session.add(row)
    await tx.session.flush()
    job = job_model(row)
    _emit(tx, EventType.ASSIST_STARTED, job)
    return job


async def cancel_job(tx: Tx, *, agent: Agent, job_id: str) -> AssistJob:
    """Cancel a queued or running job: its requester, or whoever holds the handoff now."""
    row = await _load(tx.session, job_id)
    if row is None:
        raise NotFound("assist job", job_id)
    if row.requested_by != agent.id:
        handoff = await repo.handoff(tx.session, row.handoff_id)
        holder = (
            handoff.claimed_by if handoff is not None and handoff.status == HandoffStatus.CLAIMED else None
        )
        if holder != agent.id:
            raise Forbidden(
                "forbidden",
                "only the specialist who started this job, or who holds the handoff, can cancel it",
            )
    changed = await _set(
        tx,
        job_id,
        where=ACTIVE,
        values={
            "status": AssistStatus.CANCELLED.value,
            "finished_at": utcnow(),
            "stage": f"cancelled by {agent.display_name or agent.name}",
        },
    )
    if changed is None:
        current = await _load(tx.session, job_id)
        status = current.status if current is not None else "gone"
        raise Conflict("already_finished", f"this job already finished ({status})")
    job = job_model(changed)
    _emit(tx, EventType.ASSIST_CANCELLED, job)
    return job


async def _append_note(tx: Tx, job: AssistJob, body: str, *, message_id: str) -> Message:
    """The internal note recording a result (never shown to the buyer), with its event."""
    reserved = await repo.reserve_seq(tx.session, job.conversation_id)
    if reserved is None:
        raise NotFound("conversation", job.conversation_id)
    tx.remember_conversation(job.conversation_id, reserved)  # (the next post's position)
    row = MessageRow(
        id=message_id,
        conversation_id=job.conversation_id,
        seq=int(reserved.last_seq),
        author_kind=AuthorKind.AI.value,
        author_name=ASSISTANT_AUTHOR,
        agent_id=None,
        body=body,
        internal=True,
        assist_job_id=job.id,
        created_at=utcnow(),
    )
    tx.session.add(row)
    await tx.session.flush()
    message = service.message_model(row)
    tx.emit(
        EventType.MESSAGE_CREATED,
        {"message": message.model_dump(mode="json")},
        conversation_id=job.conversation_id,
        handoff_id=job.handoff_id,
    )
    return message


async def _fail(tx: Tx, job_id: str, error: str, *, where: Sequence[str]) -> bool:
    """Mark a job failed (if its status is still one of ``where``) with its event; True if it was."""
    row = await _set(
        tx,
        job_id,
        where=where,
        values={
            "status": AssistStatus.FAILED.value,
            "finished_at": utcnow(),
            "error": error,
            "stage": "failed",
        },
    )
    if row is None:
        return False
    _emit(tx, EventType.ASSIST_FAILED, job_model(row))
    return True


async def fail_orphans(db: Database, *, older_than: float | None = None) -> int:
    """Jobs a hub process left queued or running can never finish: mark them failed.

    ``older_than`` (seconds): only jobs created that long ago or more; None = every active job.
    """
    query = select(AssistJobRow.id).where(AssistJobRow.status.in_(list(ACTIVE)))
    if older_than is not None:
        query = query.where(AssistJobRow.created_at <= utcnow() - timedelta(seconds=older_than))
    async with db.write() as tx:
        rows = (await tx.session.scalars(query)).all()
        count = 0
        for job_id in rows:
            if await _fail(tx, job_id, RESTARTED, where=ACTIVE):
                count += 1
    return count


# --- the runner ----------------------------------------------------------------------------


class AssistRunner:
    """Runs this process's jobs as asyncio tasks, ``concurrency`` at a time."""

    def __init__(
        self,
        db: Database,
        catalog: CatalogService,
        *,
        phraser: ChatPhraser | None = None,
        llm_timeout: float = 20.0,
        concurrency: int = DEFAULT_CONCURRENCY,
        job_timeout: float = JOB_TIMEOUT,
    ) -> None:
        self.db = db
        self.catalog = catalog
        self.phraser = phraser
        self.llm_timeout = llm_timeout
        self.job_timeout = job_timeout
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._committing: set[str] = set()
        self._closed = False
        self._sweeper: asyncio.Task[None] | None = None

    @classmethod
    def from_settings(cls, db: Database, *, concurrency: int = DEFAULT_CONCURRENCY) -> AssistRunner:
        """A runner with the language model the escalation engine uses (``WARMLINE_LLM_*``), if any."""
        settings = LLMSettings()
        return cls(
            db,
            CatalogService(db.engine),
            phraser=ChatPhraser.from_settings(settings),
            llm_timeout=settings.timeout_seconds,
            concurrency=concurrency,
        )

    async def start(self) -> int:
        """Fail what a previous process left unfinished; returns how many.

        On PostgreSQL (several instances may share the database) only jobs past ``ORPHAN_AGE``
        count, and a sweep keeps failing jobs whose instance died without a restart."""
        if self.db.sqlite:
            failed = await fail_orphans(self.db)
        else:
            failed = await fail_orphans(self.db, older_than=ORPHAN_AGE)
            self._sweeper = asyncio.get_running_loop().create_task(self._sweep(), name="assist-orphan-sweep")
        if failed:
            log.warning("marked %d assistant job(s) failed: %s", failed, RESTARTED)
        return failed

    async def _sweep(self) -> None:
        while not self._closed:
            await asyncio.sleep(SWEEP_INTERVAL)
            try:
                failed = await fail_orphans(self.db, older_than=ORPHAN_AGE)
                if failed:
                    log.warning("marked %d assistant job(s) failed: %s", failed, RESTARTED)
            except Exception as exc:  # the database may be restarting; try again next round
                log.warning("assistant orphan sweep failed: %s", exc)

    @property
    def running(self) -> int:
        return len(self._tasks)

    async def validate(self, request: AssistRequest, handoff_id: str) -> None:
        """404 for an unknown handoff; a fast 422 before a job is queued: unknown SKU (with the
        closest), unreadable constraint or filter, no such document to summarise."""
        async with self.db.read() as session:
            handoff = await repo.handoff(session, handoff_id)
        if handoff is None:
            raise NotFound("handoff", handoff_id)
        packet = HandoffPacket.model_validate(handoff.packet)
        problem = await check_request(self.catalog, request, packet)
        if problem is not None:
            # FastAPI's validation shape; "did you mean" SKUs as detail[i].closest (as in the 404s)
            error: dict[str, Any] = {
                "loc": ("body", *problem.loc),
                "msg": problem.message,
                "type": "value_error",
                "input": problem.value,
            }
            if problem.closest:
                error["closest"] = list(problem.closest)
            raise RequestValidationError([error])

    def launch(self, job_id: str) -> None:
        """Run a job that was just committed as queued."""
        if self._closed or job_id in self._tasks:
            return
        task = asyncio.get_running_loop().create_task(self._run(job_id), name=f"assist-{job_id}")
        self._tasks[job_id] = task
        task.add_done_callback(lambda t, job_id=job_id: self._done(job_id, t))

    def _done(self, job_id: str, task: asyncio.Task[None]) -> None:
        self._tasks.pop(job_id, None)
        self._committing.discard(job_id)
        if not task.cancelled() and task.exception() is not None:
            log.error("assistant job %s crashed", job_id, exc_info=task.exception())

    def cancel_local(self, job_id: str) -> None:
        """Stop the task of a job cancelled in the database (if it runs here and is not committing)."""
        task = self._tasks.get(job_id)
        if task is not None and job_id not in self._committing:
            task.cancel()

    async def _run(self, job_id: str) -> None:
        async with self._slots:
            async with self.db.write() as tx:
                row = await _set(
                    tx,
                    job_id,
                    where=(AssistStatus.QUEUED.value,),
                    values={"status": AssistStatus.RUNNING.value, "stage": "starting", "progress": 0},
                )
                if row is None:
                    return  # cancelled while queued
                job = job_model(row)
                _emit(tx, EventType.ASSIST_PROGRESS, job)
                handoff = await repo.handoff(tx.session, job.handoff_id)
                packet = HandoffPacket.model_validate(handoff.packet) if handoff is not None else None

            async def progress(fraction: float, stage: str) -> None:
                async with self.db.write() as ptx:
                    prow = await _set(
                        ptx,
                        job_id,
                        where=(AssistStatus.RUNNING.value,),
                        values={"progress": round(max(0.0, min(fraction, 1.0)) * 1000), "stage": stage[:200]},
                    )
                    if prow is None:
                        raise JobGone(job_id)
                    _emit(ptx, EventType.ASSIST_PROGRESS, job_model(prow))

            deadline = asyncio.timeout(self.job_timeout)  # a stuck lookup must not hold a slot
            try:
                async with deadline:
                    result = await run_assist(
                        self.catalog,
                        job.request,
                        packet,
                        phraser=self.phraser,
                        llm_timeout=self.llm_timeout,
                        progress=progress,
                    )
            except JobGone:
                return
            except TimeoutError as exc:
                if not deadline.expired():
                    log.exception("assistant job %s failed", job_id)
                    await self._finish_failed(job_id, f"the lookup failed: {type(exc).__name__}: {exc}"[:500])
                else:
                    await self._finish_failed(job_id, f"the lookup took longer than {self.job_timeout:g} s")
                return
            except AssistError as exc:
                await self._finish_failed(job_id, str(exc))
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.exception("assistant job %s failed", job_id)
                await self._finish_failed(job_id, f"the lookup failed: {type(exc).__name__}: {exc}"[:500])
                return
            self._committing.add(job_id)
            await self._finish_done(job_id, job, result)

    async def _finish_done(self, job_id: str, job: AssistJob, result: AssistResult) -> None:
        async with self.db.write() as tx:
            note_id = service.new_id("msg")
            row = await _set(
                tx,
                job_id,
                where=(AssistStatus.RUNNING.value,),
                values={
                    "status": AssistStatus.DONE.value,
                    "finished_at": utcnow(),
                    "progress": 1000,
                    "stage": "done",
                    "result": result.model_dump(mode="json"),
                    "note_message_id": note_id,
                },
            )
            if row is None:
                return  # cancelled (or failed by a restart) meanwhile: write nothing
            done = job_model(row)
            await _append_note(tx, done, with_sources(result.text, result.citations), message_id=note_id)
            _emit(tx, EventType.ASSIST_COMPLETED, done)

    async def _finish_failed(self, job_id: str, error: str) -> None:
        async with self.db.write() as tx:
            await _fail(tx, job_id, error, where=(AssistStatus.RUNNING.value,))

    async def aclose(self) -> None:
        """Stop every task, mark their jobs failed, and close the model client."""
        self._closed = True
        if self._sweeper is not None:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)
        pending = dict(self._tasks)
        for task in pending.values():
            task.cancel()
        if pending:
            await asyncio.gather(*pending.values(), return_exceptions=True)
            try:
                async with self.db.write() as tx:
                    for job_id in pending:
                        await _fail(tx, job_id, STOPPED, where=ACTIVE)
            except Exception as exc:  # the database may be gone; the next start-up fails them
                log.warning("could not mark unfinished assistant jobs failed at shutdown: %s", exc)
        if self.phraser is not None:
            with contextlib.suppress(Exception):
                await self.phraser.aclose()


def response_job_id(body: bytes) -> str | None:
    """The job id in a (possibly replayed) POST answer."""
    try:
        return json.loads(body).get("id")
    except (ValueError, AttributeError):
        return None
