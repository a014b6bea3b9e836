"""A deterministic intent classifier for buyer turns.

Cue phrases per intent with weights; typos tolerated (see ``text.PhraseSet``). The
escalation-sensitive intents the issue names (quote request, urgent support, complex
specification, exception handling, order status with a product change) sit beside
the retrieval intents (lookup, compatibility, troubleshooting, substitution,
recommendation), plus comparison and document request, which have bounded next steps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache

from warmline.escalation.text import PhraseSet, scope


class Intent(StrEnum):
    LOOKUP = "lookup"
    COMPATIBILITY = "compatibility"
    TROUBLESHOOTING = "troubleshooting"
    SUBSTITUTION = "substitution"
    RECOMMENDATION = "recommendation"
    COMPARISON = "comparison"
    DOCUMENT_REQUEST = "document_request"
    QUOTE_REQUEST = "quote_request"
    URGENT_SUPPORT = "urgent_support"
    COMPLEX_SPECIFICATION = "complex_specification"
    EXCEPTION_HANDLING = "exception_handling"
    ORDER_STATUS_CHANGE = "order_status_change"
    OTHER = "other"


# intent -> (weight, phrases). A cue's weight adds to its intent's score once.
_CUES: dict[Intent, list[tuple[float, list[str]]]] = {
    Intent.LOOKUP: [
        (
            1.0,
            [
                "what is the",
                "what's the",
                "how much torque",
                "what torque",
                "what voltage",
                "what rating",
                "what size",
                "which thread",
                "do you have",
                "do you carry",
                "do you stock",
                "is there a",
                "ip rating",
                "dimensions of",
                "weight of",
                "rated for",
                "max pressure",
                "maximum pressure",
                "max speed",
                "what material",
                "in stainless",
                "specs",
                "spec of",
                "specifications",
                "tell me about",
                "looking for",
                "what are the",
                "available in",
            ],
        ),
    ],
    Intent.COMPATIBILITY: [
        (
            2.0,
            [
                "will it fit",
                "will the",
                "does it fit",
                "fit the",
                "fits the",
                "fit our",
                "fit my",
                "compatible",
                "compatibility",
                "work with",
                "works with",
                "mate with",
                "mates with",
                "mounting pattern",
                "interchangeable",
                "same footprint",
                "bolt pattern",
                "will this fit",
                "suitable for",
                "okay for",
                "ok for",
                "rated for use",
                "can i use",
                "can we use",
                "be used with",
                "used with",
                "pair with",
                "paired with",
                "combine with",
                "drive the",
                "run with",
            ],
        ),
    ],
    Intent.TROUBLESHOOTING: [
        (
            2.5,
            [
                "not working",
                "stopped working",
                "keeps failing",
                "failing",
                "failed",
                "overheating",
                "overheats",
                "leaking",
                "leaks",
                "noise",
                "noisy",
                "vibration",
                "vibrating",
                "tripping",
                "error code",
                "fault",
                "broken",
                "worn out",
                "wears out",
                "cavitation",
                "seized",
                "won't start",
                "doesn't start",
                "intermittent",
                "drifting",
                "reads wrong",
                "wrong reading",
            ],
        ),
    ],
    Intent.SUBSTITUTION: [
        (
            2.5,
            [
                "replacement for",
                "replace the",
                "replace our",
                "replace my",
                "replacing",
                "substitute",
                "alternative to",
                "alternative for",
                "equivalent",
                "successor",
                "replaces",
                "replaced by",
                "what replaced",
                "took its place",
                "takes its place",
                "its replacement",
                "the replacement",
                "replacement",
                "superseded",
                "supersedes",
                "drop-in",
                "drop in",
                "discontinued",
                "obsolete",
                "no longer available",
                "instead of",
                "cross reference",
                "cross-reference",
            ],
        ),
    ],
    Intent.RECOMMENDATION: [
        (
            1.5,
            [
                "which pump",
                "which gearbox",
                "which sensor",
                "which bearing",
                "which connector",
                "which cable",
                "which fitting",
                "which valve",
                "which one",
                "what should i use",
                "what would you recommend",
                "recommend",
                "recommendation",
                "best option",
                "need a",
                "i need",
                "we need",
                "looking for a",
                "suggest",
                "for our",
                "for a",
                "for this",
            ],
        ),
    ],
    Intent.COMPARISON: [
        (
            2.5,
            [
                "compare",
                "comparison",
                "difference between",
                "differences between",
                "versus",
                "vs",
                "better than",
                "which is better",
                "pros and cons",
                "side by side",
                "or the",
            ],
        ),
    ],
    Intent.DOCUMENT_REQUEST: [
        (
            3.0,
            [
                "datasheet",
                "data sheet",
                "spec sheet",
                "manual",
                "certificate",
                "drawing",
                "cad",
                "step file",
                "installation guide",
                "declaration of conformity",
                "pdf",
                "brochure",
            ],
        ),
    ],
    Intent.QUOTE_REQUEST: [
        (
            4.0,
            [
                "quote",
                "quotation",
                "rfq",
                "request for quote",
                "formal offer",
                "send an offer",
                "proforma",
                "pro forma",
                "volume pricing",
                "volume discount",
            ],
        ),
    ],
    Intent.URGENT_SUPPORT: [
        (
            3.0,
            [
                "line is down",
                "line down",
                "production stopped",
                "production is down",
                "plant is down",
                "machine down",
                "asap",
                "urgent",
                "urgently",
                "emergency",
                "right now",
                "immediately",
                "avoid downtime",
                "downtime",
                "standstill",
                "stand still",
            ],
        ),
    ],
    Intent.COMPLEX_SPECIFICATION: [
        (
            3.0,
            [
                "full assembly",
                "complete system",
                "whole system",
                "system design",
                "full system",
                "entire line",
                "design the",
                "spec this",
                "specify a",
                "specify the",
                "custom",
                "modified",
                "tailor-made",
                "engineered to order",
                "multiple sites",
                "across sites",
                "standardize",
                "standardise",
                "standardizing",
                "standardising",
                "project standard",
                "application review",
            ],
        ),
    ],
    Intent.EXCEPTION_HANDLING: [
        (
            3.5,
            [
                "return",
                "rma",
                "warranty claim",
                "wrong part",
                "wrong item",
                "damaged",
                "credit note",
                "refund",
                "exception",
                "special approval",
                "waive",
                "outside the contract",
                "cancel the order",
            ],
        ),
    ],
    Intent.ORDER_STATUS_CHANGE: [
        (
            4.5,
            [
                "change my order",
                "change the order",
                "change our order",
                "modify the order",
                "modify my order",
                "modify our order",
                "swap the",
                "update the order",
                "amend the order",
                "already ordered",
                "existing order",
                "open order",
                "order number",
                "order status",
                "status of my order",
                "status of our order",
                "po number",
            ],
        ),
    ],
}

_TIE_ORDER = list(Intent)

_SETS: dict[Intent, list[tuple[float, PhraseSet]]] = {
    intent: [(w, PhraseSet(phrases)) for w, phrases in cues] for intent, cues in _CUES.items()
}


@dataclass(frozen=True)
class IntentResult:
    """The chosen intent, its runner-up scores, and the cue phrases that matched."""

    intent: Intent
    scores: dict[Intent, float] = field(default_factory=dict)
    cues: dict[Intent, list[str]] = field(default_factory=dict)

    def has(self, intent: Intent) -> bool:
        """True when the turn carries this intent at all, even if another one won."""
        return self.scores.get(intent, 0.0) > 0


def classify(text: str) -> IntentResult:
    """Classify one buyer turn; returns OTHER when no cue matches (cached: turns are re-read)."""
    result = _classify(text)
    return IntentResult(result.intent, dict(result.scores), {k: list(v) for k, v in result.cues.items()})


@lru_cache(maxsize=4096)
def _classify(text: str) -> IntentResult:
    """Classify one buyer turn; returns OTHER when no cue matches.

    Cues inside a negation's scope do not count: "no need for a quote" is not a quote
    request, "I don't need a pump" is not a recommendation.
    """
    words = scope(text)
    scores: dict[Intent, float] = {}
    cues: dict[Intent, list[str]] = {}
    for intent, sets in _SETS.items():
        for weight, phrase_set in sets:
            found = phrase_set.affirmed(words)
            if found:
                # more cues add confidence, with diminishing returns
                scores[intent] = scores.get(intent, 0.0) + weight * (1 + 0.25 * (len(found) - 1))
                cues.setdefault(intent, []).extend(found)
    if not scores:
        return IntentResult(Intent.OTHER, {}, {})
    best = max(scores.items(), key=lambda kv: (kv[1], -_TIE_ORDER.index(kv[0])))[0]
    return IntentResult(best, scores, cues)
