"""The background assistant's lookups: spec sheets, substitutes, accessories, comparison,
document summaries, reply drafts and search, each turned into an ``AssistResult``.

Pure with respect to the hub: it takes a ``CatalogService`` and the handoff's packet and
returns a result (title, plain text fit for a reply, citations, typed data). It never
imports ``warmline.hub``; the hub runs these functions as background jobs.

``run_assist`` dispatches to one module per lookup kind (``spec``, ``substitutes``,
``accessories``, ``compare``, ``summary``, ``draft``, ``search``; shared parts in ``common``);
``check_request`` is the fast check before a job is queued.

Everything is deterministic over catalog facts, except that a reply draft may be reworded
by the optional language model (``warmline.escalation.llm``): the citations and the facts
are the template's either way, and any model failure falls back to the template.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from warmline.assist.accessories import accessories
from warmline.assist.common import (
    AssistError,
    Progress,
    _Cites,
    _empty_packet,
    _no_progress,
    with_sources,
)
from warmline.assist.compare import compare_rows, compare_skus
from warmline.assist.draft import DraftFacts, check_constraint, draft, keeps_facts, template_draft
from warmline.assist.search import search
from warmline.assist.spec import spec, spec_text
from warmline.assist.substitutes import _cite_source, packet_constraints, parse_constraints, substitutes
from warmline.assist.summary import FoundDocument, find_document, key_points, summary
from warmline.catalog.service import CatalogService, ProductNotFound, parse_search_query
from warmline.catalog.units import ConstraintError, parse_constraint
from warmline.domain.assist import AssistKind, AssistRequest, AssistResult
from warmline.domain.packet import HandoffPacket
from warmline.escalation.llm import ChatPhraser

# --- entry point -----------------------------------------------------------------------


async def run_assist(
    catalog: CatalogService,
    request: AssistRequest,
    packet: HandoffPacket | None = None,
    *,
    phraser: ChatPhraser | None = None,
    llm_timeout: float = 20.0,
    progress: Progress | None = None,
) -> AssistResult:
    """Do one lookup; raises ``AssistError`` (unknown SKU, no such document...) with a clear sentence."""
    packet = packet or _empty_packet()
    report = progress or _no_progress
    try:
        match request.kind:
            case AssistKind.SPEC:
                return await spec(catalog, request.skus, progress=report)
            case AssistKind.SUBSTITUTES:
                return await substitutes(catalog, request.skus[0], request.constraints, packet)
            case AssistKind.ACCESSORIES:
                return await accessories(catalog, request.skus[0])
            case AssistKind.COMPARE:
                return await compare_skus(catalog, request.skus, progress=report)
            case AssistKind.SUMMARY:
                return await summary(catalog, request.document or "", request.skus, packet)
            case AssistKind.DRAFT:
                return await draft(
                    catalog,
                    packet,
                    skus=request.skus,
                    instructions=request.instructions or "",
                    phraser=phraser,
                    llm_timeout=llm_timeout,
                    progress=report,
                )
            case AssistKind.SEARCH:
                return await search(catalog, request.query or "")
    except ProductNotFound as exc:
        hint = f"; closest: {', '.join(exc.closest)}" if exc.closest else ""
        raise AssistError(f"no product {exc.sku!r} in the catalog{hint}") from exc
    raise AssistError(f"unknown kind {request.kind!r}")  # pragma: no cover - the enum is exhaustive


# --- checks a submitter can run first ----------------------------------------------------


@dataclass
class RequestProblem:
    """Why a request cannot run, with the field it concerns (for a 422)."""

    loc: tuple[str | int, ...]
    message: str
    value: Any = None
    closest: list[str] = field(default_factory=list)  # "did you mean" SKUs, closest first


async def check_request(
    catalog: CatalogService, request: AssistRequest, packet: HandoffPacket | None = None
) -> RequestProblem | None:
    """Fast checks before a job is queued: every SKU exists, constraints and filters parse,
    a summary's document exists."""
    for i, sku in enumerate(request.skus):
        if await catalog.get_product(sku) is None:
            closest = await catalog.closest_skus(sku)
            hint = f"; closest: {', '.join(closest)}" if closest else ""
            return RequestProblem(("skus", i), f"unknown SKU {sku!r}{hint}", sku, closest)
    for i, text in enumerate(request.constraints or []):
        try:
            parse_constraint(text)
        except ConstraintError as exc:
            return RequestProblem(("constraints", i), f"cannot read {exc.part!r}: {exc.reason}", text)
    if request.kind is AssistKind.SEARCH:
        try:
            parse_search_query(request.query or "")
        except ConstraintError as exc:
            return RequestProblem(("query",), f"cannot read {exc.part!r}: {exc.reason}", request.query)
    if request.kind is AssistKind.SUMMARY:
        try:
            await find_document(catalog, request.document or "", request.skus, packet or _empty_packet())
        except AssistError as exc:
            return RequestProblem(("document",), str(exc), request.document)
    return None


__all__ = [
    "AssistError",
    "DraftFacts",
    "FoundDocument",
    "Progress",
    "RequestProblem",
    "_Cites",
    "_cite_source",
    "accessories",
    "check_constraint",
    "check_request",
    "compare_rows",
    "compare_skus",
    "draft",
    "find_document",
    "keeps_facts",
    "key_points",
    "packet_constraints",
    "parse_constraints",
    "run_assist",
    "search",
    "spec",
    "spec_text",
    "substitutes",
    "summary",
    "template_draft",
    "with_sources",
]
