"""The background assistant's wire format: jobs a specialist starts on a handoff, and results.

Pure pydantic, no I/O; shared by the hub (``/v1/handoffs/{id}/assist``, ``/v1/assist/{job}``)
and the console's assistant panel.

Life of a job: ``POST /v1/handoffs/{id}/assist`` (202, ``AssistJob`` with status ``queued``)
-> events ``assist.started`` / ``assist.progress`` / ``assist.completed`` | ``assist.failed`` |
``assist.cancelled`` on the event stream, each carrying the job as ``data.job``. A completed job
is also recorded in the thread as an internal note (a ``message.created`` event whose message
has ``internal: true``; its ``assist_job_id`` points back at the job). Buyers never see either.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from warmline.domain.models import AgentRef

MAX_COMPARE = 4


class AssistKind(StrEnum):
    SPEC = "spec"  # spec sheets for 1+ SKUs
    SUBSTITUTES = "subs"  # substitutes for one SKU, checked against constraints
    ACCESSORIES = "acc"  # accessories and complements for one SKU
    COMPARE = "compare"  # 2..4 SKUs side by side
    SUMMARY = "summary"  # summary of one document (by title or ref, optionally of a SKU)
    DRAFT = "draft"  # a reply draft grounded in the packet and the catalog, with citations
    SEARCH = "search"  # catalog search (free text + filters)


class AssistStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in (AssistStatus.DONE, AssistStatus.FAILED, AssistStatus.CANCELLED)


class AssistRequest(BaseModel):
    """What to look up. Which fields matter depends on ``kind``; the hub answers 422 naming the field."""

    model_config = ConfigDict(extra="forbid")

    kind: AssistKind
    skus: list[str] = Field(
        default_factory=list, max_length=20, description="spec: 1+; subs/acc: 1; compare: 2-4"
    )
    constraints: list[str] | None = Field(
        default=None,
        max_length=50,
        description="subs: typed constraints like 'torque>=180Nm'; left out = the packet's constraints",
    )
    document: str | None = Field(default=None, max_length=300, description="summary: document title or ref")
    query: str | None = Field(default=None, max_length=500, description="search: text and filters")
    instructions: str | None = Field(
        default=None, max_length=2000, description="draft: what the reply should do"
    )

    @model_validator(mode="after")
    def _shape(self) -> AssistRequest:
        n = len(self.skus)
        if self.kind is AssistKind.SPEC and n < 1:
            raise ValueError("skus: spec needs at least one SKU")
        if self.kind in (AssistKind.SUBSTITUTES, AssistKind.ACCESSORIES) and n != 1:
            raise ValueError(f"skus: {self.kind.value} needs exactly one SKU")
        if self.kind is AssistKind.COMPARE and not 2 <= n <= MAX_COMPARE:
            raise ValueError(f"skus: compare needs 2 to {MAX_COMPARE} SKUs")
        if self.kind is AssistKind.SUMMARY and not (self.document or "").strip():
            raise ValueError("document: summary needs a document title or ref")
        if self.kind is AssistKind.SEARCH and not (self.query or "").strip():
            raise ValueError("query: search needs text")
        return self


class Citation(BaseModel):
    """Where a fact came from: a catalog document (kind kept: datasheet, manual, certificate, marketing)."""

    sku: str | None = None
    title: str
    kind: str = ""
    ref: str = ""


class CompareRow(BaseModel):
    attribute: str
    label: str
    values: list[str | None] = Field(description="one per compared SKU, in order; None = unknown")
    differs: bool


class AssistResult(BaseModel):
    """A finished lookup: a title, plain text fit to insert into a reply, sources, and typed data.

    ``data`` holds the structured payload for the card, by kind:
    spec -> {"sheets": [SpecSheet...]}; subs -> {"sku", "constraints": [str], "candidates":
    [SubstituteCandidate...]}; acc -> {"sku", "items": [AccessoryItem...]}; compare -> {"skus",
    "rows": [CompareRow...]}; summary -> {"sku", "document": DocumentInfo, "points": [str]};
    draft -> {"grounded": bool, "phrased_by": "template" | "llm"}; search -> {"hits": [SearchHit...]}.
    """

    title: str
    text: str = Field(description="plain text, fit for 'Insert into reply'")
    citations: list[Citation] = Field(default_factory=list)
    data: dict[str, Any] = Field(default_factory=dict)


class AssistJob(BaseModel):
    id: str
    handoff_id: str
    conversation_id: str
    kind: AssistKind
    status: AssistStatus
    request: AssistRequest
    requested_by: AgentRef
    created_at: datetime
    finished_at: datetime | None = None
    progress: float = Field(default=0.0, ge=0.0, le=1.0)
    stage: str = Field(default="", description="what the job is doing now, one short phrase")
    result: AssistResult | None = None
    error: str | None = Field(default=None, description="why it failed, one sentence")
    note_message_id: str | None = Field(default=None, description="the internal note recording the result")


class AssistJobPage(BaseModel):
    items: list[AssistJob]
