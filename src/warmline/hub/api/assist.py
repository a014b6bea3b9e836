"""The background assistant: jobs a specialist starts on a handoff (issue 5).

``POST /v1/handoffs/{id}/assist`` answers 202 at once with the queued job; results arrive on
the event stream (``assist.*``) and are recorded in the thread as internal notes. Reading and
lookups are open to every agent (as reading handoffs is); cancelling is for the agent who
started the job or the one holding the handoff.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from warmline.domain.assist import AssistJob, AssistJobPage, AssistRequest
from warmline.domain.models import PrincipalKind
from warmline.hub import assist_jobs
from warmline.hub.api.conversations import IdempotencyKey
from warmline.hub.assist_jobs import AssistRunner
from warmline.hub.auth import DB, AgentOnly, AgentOrBot, allow
from warmline.hub.idempotency import request_hash, run_idempotent
from warmline.hub.principal import Principal
from warmline.hub.store.db import Tx

router = APIRouter(tags=["assist"])

AgentPrincipal = Annotated[Principal, Depends(allow(PrincipalKind.AGENT))]

_BODY_SCHEMA = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AssistRequest"}}},
    }
}


def _runner(request: Request) -> AssistRunner:
    return request.app.state.assist_runner


def _field_errors(exc: ValidationError) -> RequestValidationError:
    """Pydantic errors as FastAPI's, with the validator's "field: reason" moved into ``loc``."""
    errors = []
    for err in exc.errors(include_url=False):
        loc: tuple[Any, ...] = ("body", *err["loc"])
        msg = str(err["msg"])
        if not err["loc"] and msg.startswith("Value error, "):
            msg = msg.removeprefix("Value error, ")
            field, sep, reason = msg.partition(": ")
            if sep and field in AssistRequest.model_fields:
                loc, msg = ("body", field), reason
        errors.append({"loc": loc, "msg": msg, "type": err["type"], "input": err.get("input")})
    return RequestValidationError(errors)


async def _parse(request: Request) -> AssistRequest:
    try:
        raw = json.loads(await request.body() or b"null")
    except ValueError as exc:
        raise RequestValidationError(
            [{"loc": ("body",), "msg": f"invalid JSON: {exc}", "type": "json_invalid", "input": None}]
        ) from None
    try:
        return AssistRequest.model_validate(raw)
    except ValidationError as exc:
        raise _field_errors(exc) from None


@router.post(
    "/handoffs/{handoff_id}/assist",
    status_code=202,
    response_model=AssistJob,
    openapi_extra=_BODY_SCHEMA,
    responses={404: {"description": "unknown handoff"}, 409: {"description": "handoff resolved"}},
)
async def start_job(
    request: Request,
    db: DB,
    principal: AgentPrincipal,
    handoff_id: str,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Start a lookup on a handoff; 202 with the queued job, results on the event stream.

    Unknown SKUs, unreadable constraints and search filters are refused at once (422 naming
    the field, with the closest SKUs); a retry with the same Idempotency-Key returns the same job.
    """
    body = await _parse(request)
    runner = _runner(request)
    agent = principal.agent
    assert agent is not None
    await runner.validate(body, handoff_id)
    created: list[str] = []

    async def action(tx: Tx) -> AssistJob:
        job = await assist_jobs.create_job(tx, agent=agent, handoff_id=handoff_id, request=body)
        created.append(job.id)
        return job

    response = await run_idempotent(
        db,
        principal=principal,
        key=idempotency_key,
        fingerprint=request_hash("POST", request.url.path, body),
        status_code=202,
        action=action,
    )
    job_id = assist_jobs.response_job_id(bytes(response.body))
    if created and job_id == created[-1]:  # committed now (a replay answers an older job)
        runner.launch(job_id)
    return response


@router.get("/handoffs/{handoff_id}/assist", response_model=AssistJobPage)
async def list_jobs(
    db: DB,
    _caller: AgentOrBot,
    handoff_id: str,
    limit: Annotated[int, Query(ge=1, le=assist_jobs.MAX_PAGE)] = 50,
) -> AssistJobPage:
    """A handoff's assistant jobs, newest first (results included)."""
    async with db.read() as session:
        return await assist_jobs.list_jobs(session, handoff_id, limit=limit)


@router.get("/assist/{job_id}", response_model=AssistJob)
async def get_job(db: DB, _caller: AgentOrBot, job_id: str) -> AssistJob:
    """One job, with its result when done."""
    async with db.read() as session:
        return await assist_jobs.get_job(session, job_id)


@router.post(
    "/assist/{job_id}/cancel",
    response_model=AssistJob,
    responses={403: {"description": "not yours"}, 409: {"description": "already_finished"}},
)
async def cancel_job(request: Request, db: DB, agent: AgentOnly, job_id: str) -> AssistJob:
    """Cancel a queued or running job (its requester, or the agent holding the handoff)."""
    async with db.write() as tx:
        job = await assist_jobs.cancel_job(tx, agent=agent, job_id=job_id)
    _runner(request).cancel_local(job_id)
    return job
