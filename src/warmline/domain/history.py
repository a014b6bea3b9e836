"""Wire models of the History view: past and present conversations found by words.

``GET /v1/conversations?q=&status=`` answers a ``HistoryPage``: one item per handoff whose
company, buyer name, SKUs, summary or message text holds every word, newest first.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from warmline.domain.models import AuthorKind, HandoffSummary


class HistoryItem(BaseModel):
    handoff: HandoffSummary
    buyer_name: str = ""
    subject: str = ""
    last_message_at: datetime | None = None
    last_author_kind: AuthorKind | None = None
    buyer_wrote_after_resolve: bool = Field(
        default=False, description="resolved, and the buyer's turn is the newest: worth reopening"
    )
    snippet: str = Field(default="", description="a message that matched, shortened")


class HistoryPage(BaseModel):
    items: list[HistoryItem]
    more: bool = Field(default=False, description="more matched than the limit")
