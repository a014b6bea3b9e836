"""The handoff packet: what travels with a conversation when the AI hands it to a human.

This is the wire format shared by the hub, the console and any external bot; its JSON
Schema is published at ``GET /v1/schema/packet`` and kept in
``resources/schema/handoff-packet.schema.json``. Every item can point back to the
transcript turn it came from (``source_turn``: the message ``seq`` in the conversation),
so the console can jump there.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

MAX_TEXT = 2000
MAX_ITEMS = 100


class ReasonCategory(StrEnum):
    """Why the conversation left automation (the escalation engine's reason codes)."""

    LOW_CONFIDENCE = "low_confidence"
    LIVE_DATA = "live_data"
    PURCHASE_INTENT = "purchase_intent"
    COMPLEXITY = "complexity"
    EXPLICIT_REQUEST = "explicit_request"
    POLICY_RULE = "policy_rule"

    @property
    def label(self) -> str:
        return REASON_LABELS[self]


REASON_LABELS: dict[ReasonCategory, str] = {
    ReasonCategory.LOW_CONFIDENCE: "Low confidence",
    ReasonCategory.LIVE_DATA: "Needs live data",
    ReasonCategory.PURCHASE_INTENT: "Purchase intent",
    ReasonCategory.COMPLEXITY: "Complex case",
    ReasonCategory.EXPLICIT_REQUEST: "Asked for a person",
    ReasonCategory.POLICY_RULE: "Policy rule",
}


class Priority(StrEnum):
    URGENT = "urgent"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"

    @property
    def rank(self) -> int:
        """Lower rank sorts first."""
        return _PRIORITY_RANK[self]


_PRIORITY_RANK = {Priority.URGENT: 0, Priority.HIGH: 1, Priority.NORMAL: 2, Priority.LOW: 3}


class _Item(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source_turn: int | None = Field(
        default=None, ge=1, description="seq of the transcript message this item came from"
    )


class ProductRef(_Item):
    sku: str = Field(min_length=1, max_length=100)
    name: str = Field(default="", max_length=300)
    family: str = Field(default="", max_length=100)
    role: str = Field(
        default="candidate",
        max_length=50,
        description="candidate | current | discontinued | accessory | mentioned",
    )


class Constraint(_Item):
    name: str = Field(min_length=1, max_length=100, examples=["torque"])
    value: str = Field(min_length=1, max_length=200, examples=["> 180"])
    unit: str = Field(default="", max_length=30, examples=["N·m"])


class SourceDocument(_Item):
    title: str = Field(min_length=1, max_length=300)
    kind: str = Field(
        default="datasheet", max_length=50, description="datasheet | manual | certificate | marketing | other"
    )
    sku: str | None = Field(default=None, max_length=100)
    ref: str = Field(default="", max_length=500, description="URL or document id")
    score: float | None = Field(default=None, description="retrieval score, if any")


class Note(_Item):
    text: str = Field(min_length=1, max_length=MAX_TEXT)


class Quantity(_Item):
    amount: float = Field(gt=0)
    unit: str = Field(default="pcs", max_length=30)
    sku: str | None = Field(default=None, max_length=100)


class AccountFacts(BaseModel):
    model_config = ConfigDict(extra="forbid")

    company: str = Field(default="", max_length=200)
    tier: str = Field(default="standard", max_length=50, description="standard | key | enterprise | assisted")
    region: str = Field(default="", max_length=100)
    enterprise: bool = False


class HandoffPacket(BaseModel):
    """The structured summary that makes a handoff warm."""

    model_config = ConfigDict(extra="forbid")

    reason: ReasonCategory
    secondary_reasons: list[ReasonCategory] = Field(
        default_factory=list,
        max_length=len(ReasonCategory),
        description="other reasons that also applied, in the policy's precedence order (reason is the first)",
    )
    sub_reason: str = Field(default="", max_length=100, examples=["live_pricing"])
    summary: str = Field(
        min_length=1,
        max_length=MAX_TEXT,
        description="one plain sentence, said to the buyer too",
        examples=["I can help narrow the options, but pricing and lead time need live account data."],
    )
    goal: str = Field(default="", max_length=MAX_TEXT)
    goal_turn: int | None = Field(default=None, ge=1)
    product_family: str = Field(default="", max_length=100)
    products: list[ProductRef] = Field(default_factory=list, max_length=MAX_ITEMS)
    constraints: list[Constraint] = Field(default_factory=list, max_length=MAX_ITEMS)
    documents: list[SourceDocument] = Field(default_factory=list, max_length=MAX_ITEMS)
    confidence_notes: list[Note] = Field(default_factory=list, max_length=MAX_ITEMS)
    unresolved: list[Note] = Field(default_factory=list, max_length=MAX_ITEMS)
    account: AccountFacts = Field(default_factory=AccountFacts)
    urgency: str = Field(default="", max_length=200, examples=["delivery needed this month"])
    urgency_turn: int | None = Field(default=None, ge=1)
    quantities: list[Quantity] = Field(default_factory=list, max_length=MAX_ITEMS)
    signals: list[str] = Field(
        default_factory=list, max_length=MAX_ITEMS, description="names of the signals that drove the decision"
    )


def packet_json_schema() -> dict[str, Any]:
    """The published JSON Schema of the packet."""
    schema = HandoffPacket.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://warmline.dev/schema/handoff-packet.schema.json"
    return schema
