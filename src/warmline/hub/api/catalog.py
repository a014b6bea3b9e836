"""/v1/catalog: search, spec sheets, substitutes and accessories (agent or bot token).

Thin: parse, authorize, translate. The rules live in warmline.catalog.service.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from warmline.catalog.models import AccessoryItem, NotFoundDetail, SearchHit, SpecSheet, SubstituteCandidate
from warmline.catalog.service import CatalogService, ProductNotFound
from warmline.catalog.units import ConstraintError
from warmline.hub.auth import DB, AgentOrBot
from warmline.hub.errors import field_error

router = APIRouter(prefix="/catalog", tags=["catalog"])

NOT_FOUND = {404: {"description": "unknown SKU, with the closest SKUs", "model": dict[str, NotFoundDetail]}}


def _not_found(exc: ProductNotFound) -> HTTPException:
    detail = NotFoundDetail(message=f"product {exc.sku!r} not found", closest=exc.closest)
    return HTTPException(status_code=404, detail={**detail.model_dump(), "owner": None})


@router.get("/search", response_model=list[SearchHit])
async def search(
    db: DB,
    _caller: AgentOrBot,
    q: Annotated[
        str, Query(min_length=1, max_length=500, description="text and filters: family:gearbox ip>=65")
    ],
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> list[SearchHit]:
    """Products matching free text and attribute filters, best first."""
    try:
        return await CatalogService(db.engine).search(q, limit=limit)
    except ConstraintError as exc:
        raise field_error(("query", "q"), f"cannot read {exc.part!r}: {exc.reason}", value=exc.text) from None


@router.get("/products/{sku:path}/substitutes", response_model=list[SubstituteCandidate], responses=NOT_FOUND)
async def substitutes(
    db: DB,
    _caller: AgentOrBot,
    sku: str,
    constraint: Annotated[list[str] | None, Query(max_length=50, description="e.g. torque>=180Nm")] = None,
    include_discontinued: bool = False,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> list[SubstituteCandidate]:
    """Ranked substitutes with a verdict per constraint (supersession first)."""
    from warmline.catalog.units import parse_constraint

    parsed = []
    for i, text in enumerate(constraint or []):
        try:
            parsed.append(parse_constraint(text))
        except ConstraintError as exc:
            raise field_error(
                ("query", "constraint", i), f"cannot read {exc.part!r}: {exc.reason}", value=text
            ) from None
    try:
        return await CatalogService(db.engine).substitutes(
            sku, parsed, include_discontinued=include_discontinued, limit=limit
        )
    except ProductNotFound as exc:
        raise _not_found(exc) from None


@router.get("/products/{sku:path}/accessories", response_model=list[AccessoryItem], responses=NOT_FOUND)
async def accessories(db: DB, _caller: AgentOrBot, sku: str) -> list[AccessoryItem]:
    """Accessories and complements: relations first, then family rules."""
    try:
        return await CatalogService(db.engine).accessories(sku)
    except ProductNotFound as exc:
        raise _not_found(exc) from None


@router.get("/products/{sku:path}", response_model=SpecSheet, responses=NOT_FOUND)
async def spec_sheet(db: DB, _caller: AgentOrBot, sku: str) -> SpecSheet:
    """Everything known about a SKU; attributes with unit and source; conflicts flagged."""
    try:
        return await CatalogService(db.engine).spec_sheet(sku)
    except ProductNotFound as exc:
        raise _not_found(exc) from None
