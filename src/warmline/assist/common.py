"""What every assistant lookup shares: its error, progress callback, limits and citations.

``_Cites`` gathers the catalog documents a result's facts came from (first use first, no
repeats); ``with_sources`` is how a result is recorded as an internal note.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence

from warmline.catalog.models import SpecAttribute, SpecSheet
from warmline.domain.assist import Citation
from warmline.domain.packet import HandoffPacket

log = logging.getLogger(__name__)

Progress = Callable[[float, str], Awaitable[None]]

MAX_SUBSTITUTES = 5
MAX_ACCESSORIES = 12
MAX_SEARCH_HITS = 10
MAX_SUMMARY_POINTS = 6
MAX_DRAFT_SKUS = 4
KEY_ATTRIBUTES_IN_DRAFT = 6


class AssistError(Exception):
    """A lookup that cannot be done, said in one sentence for the specialist."""


async def _no_progress(_fraction: float, _stage: str) -> None:
    return None


def _empty_packet() -> HandoffPacket:
    return HandoffPacket(reason="low_confidence", summary="(no packet)")


# --- citations -------------------------------------------------------------------------


class _Cites:
    """Citations in first-use order, without repeats."""

    def __init__(self) -> None:
        self.items: list[Citation] = []
        self._seen: set[tuple[str | None, str]] = set()

    def add(self, sku: str | None, title: str, kind: str = "", ref: str = "") -> None:
        key = (sku, title)
        if title and key not in self._seen:
            self._seen.add(key)
            self.items.append(Citation(sku=sku, title=title, kind=kind, ref=ref))

    def from_sheet(self, sheet: SpecSheet, attrs: Iterable[SpecAttribute] | None = None) -> None:
        """The documents the shown values came from (all technical documents when attrs is None)."""
        refs = {d.title: d for d in sheet.documents}
        if attrs is None:
            for d in sheet.documents:
                if d.kind.technical:
                    self.add(sheet.product.sku, d.title, d.kind.value, d.ref)
            return
        for a in attrs:
            doc = refs.get(a.source.document_title)
            self.add(
                sheet.product.sku,
                a.source.document_title,
                a.source.document_kind.value,
                doc.ref if doc else a.source.ref,
            )


def with_sources(text: str, citations: Sequence[Citation]) -> str:
    """``text`` followed by a "Sources:" list (how a result is recorded as an internal note)."""
    if not citations:
        return f"{text}\n\nSources: none (no catalog document backs this)."
    lines = [text, "", "Sources:"]
    for c in citations:
        kind = f" ({c.kind})" if c.kind else ""
        ref = f" [{c.ref}]" if c.ref else ""
        lines.append(f"- {c.title}{kind}{ref}")
    return "\n".join(lines)
