"""The records escalation signals are made of and read: ``Signal`` and the plain inputs.

``Signal`` is one observation (name, value, detail, the turn it came from); the dataclasses are
what the signal functions take instead of database rows (turn text, search hits, a product's
catalog evidence), so every signal stays a pure, unit-testable function.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel, Field

from warmline.domain.models import AuthorKind


class Signal(BaseModel):
    """One observation that drove (or could have driven) a decision."""

    name: str = Field(examples=["weak_retrieval"])
    value: bool | int | float | str = True
    detail: str = ""
    turn: int | None = Field(default=None, description="seq of the message it was observed in")


# --- plain inputs ---------------------------------------------------------------------


@dataclass(frozen=True)
class TurnText:
    """The part of a transcript message the signals need."""

    seq: int
    author_kind: AuthorKind
    body: str

    @property
    def is_buyer(self) -> bool:
        return self.author_kind == AuthorKind.BUYER


@dataclass(frozen=True)
class RetrievalHit:
    """A catalog search hit as the signals see it (score normalised to 0..1)."""

    sku: str
    name: str = ""
    family: str = ""
    score: float = 0.0
    status: str = "active"
    doc_kind: str | None = None
    doc_title: str | None = None


@dataclass(frozen=True)
class DocumentRef:
    title: str
    kind: str
    ref: str = ""


@dataclass(frozen=True)
class ValueConflict:
    """Sources disagreeing on one attribute: (document title, kind, value) per source."""

    attribute: str
    values: tuple[tuple[str, str, str], ...]


@dataclass(frozen=True)
class ProductEvidence:
    """What the catalog knows about one product, for grounding and the packet."""

    sku: str
    name: str = ""
    family: str = ""
    status: str = "active"
    superseded_by: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    documents: tuple[DocumentRef, ...] = ()
    conflicts: tuple[ValueConflict, ...] = ()
