"""What catalog lookups return: the Python API's results and the /v1/catalog wire format."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field


class Lifecycle(StrEnum):
    ACTIVE = "active"
    DISCONTINUED = "discontinued"
    SUPERSEDED = "superseded"  # discontinued, with a named successor


class DocKind(StrEnum):
    """Technical kinds are evidence; marketing copy is not."""

    DATASHEET = "datasheet"
    MANUAL = "manual"
    CERTIFICATE = "certificate"
    MARKETING = "marketing"
    TABLE = "table"  # a row of a structured product table (CSV/JSON)
    OTHER = "other"

    @property
    def technical(self) -> bool:
        return self in (DocKind.DATASHEET, DocKind.MANUAL, DocKind.CERTIFICATE, DocKind.TABLE)


class RelationKind(StrEnum):
    ACCESSORY_OF = "accessory_of"  # this product is an accessory of the target
    COMPATIBLE_WITH = "compatible_with"
    REPLACES = "replaces"  # this product replaces the target (the target's successor)


class ProductSummary(BaseModel):
    sku: str
    name: str
    family: str
    manufacturer: str = ""
    status: Lifecycle = Lifecycle.ACTIVE
    superseded_by: str | None = None


class SearchHit(BaseModel):
    sku: str
    name: str
    family: str
    status: Lifecycle
    score: float = Field(ge=0, le=1, description="relevance squashed to 0..1 (comparable within one engine)")
    raw_score: float = Field(description="the engine's own score (FTS5 -bm25, or PostgreSQL ts_rank_cd)")
    snippet: str = ""
    doc_kind: DocKind | None = Field(
        default=None, description="kind of the text that matched; None = product"
    )
    doc_title: str | None = None
    matched_by: str = Field(
        default="text",
        description="'sku' (the SKU asked for), 'sku_prefix' (SKU starts with the query), "
        "'text' (full text, ranked), 'filters' (filters only); hits come in this order",
    )


class AttributeSource(BaseModel):
    """One statement of an attribute's value, and where it was made."""

    value: str = Field(description="as displayed, in the attribute's unit")
    value_si: float | None = None
    document_title: str
    document_kind: DocKind
    ref: str = ""


class SpecAttribute(BaseModel):
    name: str
    label: str
    value: str = Field(description="display value (from the most authoritative source)")
    unit: str = ""
    dimension: str | None = None
    value_si: float | None = None
    value_si_max: float | None = None
    source: AttributeSource
    sources: list[AttributeSource] = Field(default_factory=list)
    conflict: bool = False
    marketing_only: bool = False


class SpecConflict(BaseModel):
    attribute: str
    label: str
    values: list[AttributeSource]
    note: str


class DocumentInfo(BaseModel):
    title: str
    kind: DocKind
    ref: str = ""
    excerpt: str = ""


class RelationInfo(BaseModel):
    kind: RelationKind
    sku: str
    direction: str = Field(description="'out' = this product -> sku; 'in' = sku -> this product")
    note: str = ""


class SpecSheet(BaseModel):
    product: ProductSummary
    attributes: list[SpecAttribute]
    conflicts: list[SpecConflict]
    documents: list[DocumentInfo]
    relations: list[RelationInfo] = Field(default_factory=list)
    superseded_by: str | None = None
    supersession_chain: list[str] = Field(
        default_factory=list, description="successors in order, ending at the current part"
    )
    evidence: str = Field(description="'technical' | 'marketing_only' | 'none'")


class Verdict(StrEnum):
    MEETS = "meets"
    FAILS = "fails"
    UNKNOWN = "unknown"


class ConstraintVerdict(BaseModel):
    constraint: str = Field(description="readable constraint, e.g. 'torque ≥ 180 N·m'")
    attribute: str
    verdict: Verdict
    wanted: str
    actual: str | None = None
    source: str | None = Field(default=None, description="document the actual value came from")
    implicit: bool = Field(default=False, description="derived from the original part, not asked for")


class SubstituteCandidate(BaseModel):
    product: ProductSummary
    rank: int
    score: float
    verdicts: list[ConstraintVerdict]
    confidence_note: str
    why: str
    via_supersession: bool = False
    fit_ratio: float | None = Field(
        default=None,
        description="the largest ratio of its value to an asked minimum where more is a worse fit "
        "(families.toml sized_by; 1.0 = exact fit); parts above 2.5 are not proposed",
    )


class AccessoryItem(BaseModel):
    product: ProductSummary
    relation: str = Field(description="'accessory_of' | 'compatible_with' | 'family_rule'")
    note: str = ""


class NotFoundDetail(BaseModel):
    code: str = "not_found"
    message: str
    closest: list[str] = Field(default_factory=list)
