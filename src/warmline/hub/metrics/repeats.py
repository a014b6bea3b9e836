"""Did the buyer have to repeat themselves? Buyer messages written after the escalation are
compared with what the handoff packet already held: its SKUs, its constraints (read with the
catalog's units, so "0.18 kNm" restates "torque > 180 N·m"), its quantities and its goal.

Pure functions (no I/O); ``capture`` runs them when a handoff is resolved and stores each hit
(which message repeated which packet item).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from warmline.catalog.constraints import constraint_from_packet
from warmline.catalog.quantities import Quantity, extract_quantities
from warmline.domain.packet import HandoffPacket

COUNT_RE = re.compile(
    r"(?<![\w.])(\d{1,9}(?:[.,]\d+)?)\s*(?:x\s*)?(pcs|pc|pieces|piece|units|unit|off|ea|each)\b", re.I
)
WORD_RE = re.compile(r"[a-z0-9][a-z0-9\-]{3,}")
STOP = frozenset(
    [
        "that",
        "this",
        "with",
        "have",
        "from",
        "they",
        "them",
        "then",
        "than",
        "what",
        "when",
        "where",
        "which",
        "will",
        "would",
        "could",
        "should",
        "need",
        "needs",
        "want",
        "wants",
        "looking",
        "about",
        "there",
        "their",
        "some",
        "also",
        "into",
        "your",
        "just",
        "like",
        "please",
    ]
)
GOAL_SHARE = 0.6  # share of the goal's content words a message must hold (and GOAL_WORDS of them)
GOAL_WORDS = 3


@dataclass(frozen=True)
class Repeat:
    """One restatement: message ``seq`` repeated the packet's ``packet_item`` (of ``kind``)."""

    seq: int
    kind: str  # sku | constraint | quantity | goal
    packet_item: str
    found: str

    def as_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "kind": self.kind, "packet_item": self.packet_item, "found": self.found}


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=0.01, abs_tol=1e-9)


def _same_quantity(found: Quantity, wanted: Quantity) -> bool:
    if found.dimension != wanted.dimension:
        return False
    if wanted.rating is not None or found.rating is not None:
        return (found.rating or "").upper() == (wanted.rating or "").upper()
    return _close(found.lo, wanted.lo) or _close(found.hi, wanted.hi)


def _content_words(text: str) -> set[str]:
    return {w for w in WORD_RE.findall(text.lower()) if w not in STOP}


def find_repeats(packet: HandoffPacket, messages: Iterable[tuple[int, str]]) -> list[Repeat]:
    """Every packet item a buyer message restates; ``messages`` are (seq, body) after the escalation."""
    skus = [(p.sku, re.compile(rf"(?<![\w-]){re.escape(p.sku)}(?![\w-])", re.I)) for p in packet.products]
    numeric: list[tuple[str, Quantity]] = []
    textual: list[tuple[str, str]] = []
    for c in packet.constraints:
        try:
            parsed = constraint_from_packet(c)
        except ValueError:
            continue
        label = f"{c.name} {c.value}{(' ' + c.unit) if c.unit else ''}"
        if parsed.value is not None:
            numeric.append((label, parsed.value))
        elif parsed.text and len(parsed.text.strip()) >= 4:
            textual.append((label, parsed.text.strip().lower()))
    counts = [(f"{q.amount:g} {q.unit}", q.amount) for q in packet.quantities]
    goal_words = _content_words(packet.goal)
    out: list[Repeat] = []
    for seq, body in messages:
        lowered = body.lower()
        for sku, pattern in skus:
            if m := pattern.search(body):
                out.append(Repeat(seq, "sku", sku, m.group(0)))
        if numeric:
            found = extract_quantities(body)
            for label, wanted in numeric:
                hit = next((q for _span, q in found if _same_quantity(q, wanted)), None)
                if hit is not None:
                    out.append(Repeat(seq, "constraint", label, hit.original))
        for label, value in textual:
            if re.search(rf"(?<!\w){re.escape(value)}(?!\w)", lowered):
                out.append(Repeat(seq, "constraint", label, value))
        if counts:
            said = [(m.group(0), float(m.group(1).replace(",", "."))) for m in COUNT_RE.finditer(body)]
            for label, amount in counts:
                hit_text = next((t for t, v in said if _close(v, amount)), None)
                if hit_text is not None:
                    out.append(Repeat(seq, "quantity", label, hit_text))
        if len(goal_words) >= GOAL_WORDS:
            shared = goal_words & _content_words(body)
            if len(shared) >= GOAL_WORDS and len(shared) >= GOAL_SHARE * len(goal_words):
                out.append(Repeat(seq, "goal", packet.goal[:300], " ".join(sorted(shared))[:300]))
    return out
