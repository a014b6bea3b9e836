"""Reading one buyer message: every text-only signal, computed off the event loop with a time budget.

Everything the engine reads from a message's words alone (the intent model's probabilities,
the rule cues for person requests, regulated words, live-data questions, purchase and
system-design cues, frustration, certification claims, product families, constraints and
quantities) is pure CPU work. ``read_message`` runs it in a worker thread so a hub's event
loop keeps serving while a long message is read, and gives the work a budget
(``[engine] turn_budget_ms``): parts run cheapest and most decisive first (model, person
request, regulated words, live data, ...; constraint extraction last), and on overrun the
engine decides from the parts that finished, and a ``reading_budget_exceeded`` signal names
the ones that did not. Readings are cached per (message, seq): a transcript is re-read on
every turn, a message is read once.
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from warmline.escalation import signals as sig
from warmline.escalation.classifier import IntentModel, IntentScores
from warmline.escalation.cues import PURCHASE_CUES, SYSTEM_DESIGN
from warmline.escalation.extract import TurnFacts, extract_facts
from warmline.escalation.intents import Intent, IntentResult, classify
from warmline.escalation.taxonomy import FamilyTerms
from warmline.escalation.text import PhraseSet, scope

# Cheapest and most decisive first: on a budget overrun the early parts are the ones we have.
PARTS = (
    "model",
    "explicit",
    "regulated",
    "live",
    "intent",
    "frustration",
    "purchase",
    "system",
    "certifications",
    "families",
    "facts",
)
_EXECUTOR = ThreadPoolExecutor(max_workers=2, thread_name_prefix="warmline-escalation")


@dataclass(frozen=True)
class Lexicon:
    """The policy's phrase sets and the model, built once per engine."""

    regulated: dict[str, PhraseSet]
    live: dict[str, PhraseSet]
    terms: FamilyTerms
    model: IntentModel | None


@dataclass
class Reading:
    """What one buyer message says, from its words alone."""

    seq: int
    model: IntentScores | None = None
    explicit: list[sig.Signal] = field(default_factory=list)
    regulated: list[sig.Signal] = field(default_factory=list)
    live: list[sig.Signal] = field(default_factory=list)
    intent: IntentResult = field(default_factory=lambda: IntentResult(Intent.OTHER))
    frustration: list[sig.Signal] = field(default_factory=list)
    purchase: dict[str, list[str]] = field(default_factory=dict)
    system: list[str] = field(default_factory=list)
    certifications: list[str] = field(default_factory=list)
    families: list[str] = field(default_factory=list)
    facts: TurnFacts | None = None
    skipped: list[str] = field(default_factory=list)
    budget_ms: float = 0.0


def read_parts(out: dict[str, Any], body: str, seq: int, lex: Lexicon) -> None:
    """Compute every part into ``out`` in ``PARTS`` order (runs in the worker thread)."""
    out["model"] = lex.model.predict(body) if lex.model is not None else None
    scoped = scope(body)
    out["explicit"] = sig.explicit_request(body, seq)
    out["regulated"] = sig.category_terms(body, lex.regulated, seq)
    out["live"] = sig.live_data_needs(body, lex.live, seq)
    out["intent"] = classify(body)
    out["frustration"] = sig.frustration(body, seq)
    out["purchase"] = {
        sub: found for sub, phrases in PURCHASE_CUES.items() if (found := phrases.affirmed(scoped))
    }
    out["system"] = SYSTEM_DESIGN.affirmed(scoped)
    out["certifications"] = sig.certification_claims(body)
    out["families"] = lex.terms.families_in(body)
    out["facts"] = extract_facts(body, seq)


def _reading(parts: dict[str, Any], seq: int, skipped: list[str], budget_ms: float) -> Reading:
    known = {k: v for k, v in parts.items() if k in PARTS}
    return Reading(seq=seq, skipped=skipped, budget_ms=budget_ms, **known)


class MessageReader:
    """Reads buyer messages in a worker thread with a per-message budget; caches finished readings."""

    def __init__(self, lexicon: Lexicon, budget_ms: float, cache_size: int = 4096) -> None:
        self.lexicon = lexicon
        self.budget_ms = budget_ms
        self._cache: OrderedDict[tuple[str, int], Reading] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def _remember(self, key: tuple[str, int], reading: Reading) -> None:
        with self._lock:
            self._cache[key] = reading
            self._cache.move_to_end(key)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

    def cached(self, body: str, seq: int) -> Reading | None:
        with self._lock:
            return self._cache.get((body, seq))

    async def read(self, body: str, seq: int) -> Reading:
        """The message's reading: from the cache, else from the worker within the budget."""
        key = (body, seq)
        hit = self.cached(body, seq)
        if hit is not None:
            return hit
        parts: dict[str, Any] = {}

        def work() -> None:
            read_parts(parts, body, seq, self.lexicon)
            # finished (maybe after the budget): later turns of this conversation get it whole
            self._remember(key, _reading(dict(parts), seq, [], self.budget_ms))

        future = asyncio.get_running_loop().run_in_executor(_EXECUTOR, work)
        try:
            await asyncio.wait_for(asyncio.shield(future), self.budget_ms / 1000)
        except TimeoutError:
            done = dict(parts)
            skipped = [p for p in PARTS if p not in done]
            return _reading(done, seq, skipped, self.budget_ms)
        return self.cached(body, seq) or _reading(dict(parts), seq, [], self.budget_ms)
