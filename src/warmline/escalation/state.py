"""The conversation as the engine reads it: per-turn facts (``TurnInfo``), the transcript state
(``State``) and a candidate outcome before the policy orders them (``Proposal``).

Shared by the engine, the AI path (``assist``) and the packet builder (``packets``), so none of
them has to import another for these types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from warmline.domain.packet import Constraint, Quantity, ReasonCategory
from warmline.escalation import signals as sig
from warmline.escalation.intents import Intent, IntentResult
from warmline.escalation.models import Outcome, Turn


@dataclass
class TurnInfo:
    """What the engine read from one buyer turn."""

    turn: Turn
    intent: IntentResult
    constraints: list[Constraint]
    quantities: list[Quantity]
    urgency: str | None
    region: str | None
    skus: list[str]
    unknown_skus: list[str]
    closest: dict[str, list[str]]
    families: list[str]
    # the message's text-only reading (``reading.Reading``) and the cue rules' intent alone
    reading: Any = None
    rule_intent: IntentResult | None = None


@dataclass
class State:
    """The conversation so far, as facts with the turn each came from."""

    turns: list[Turn]
    buyer: list[TurnInfo]
    ai_skus: dict[str, int] = field(default_factory=dict)  # SKU the AI offered -> seq

    @property
    def current(self) -> TurnInfo:
        return self.buyer[-1]

    def constraints(self) -> list[Constraint]:
        """Buyer constraints, the latest statement of each attribute winning."""
        latest: dict[str, Constraint] = {}
        for info in self.buyer:
            for c in info.constraints:
                latest[c.name] = c
        return list(latest.values())

    def skus(self) -> list[str]:
        found: dict[str, None] = {}
        for info in self.buyer:
            for s in info.skus:
                found.setdefault(s, None)
        return list(found)

    def family(self) -> str | None:
        for info in reversed(self.buyer):
            if info.families:
                return info.families[0]
        return None


@dataclass
class Proposal:
    """A candidate outcome before the policy orders them."""

    outcome: Outcome
    reason: ReasonCategory | None = None
    sub_reason: str = ""
    reply: str = ""
    signals: list[sig.Signal] = field(default_factory=list)
    context: dict[str, str] = field(default_factory=dict)
    focus: list[str] = field(default_factory=list)  # SKUs the outcome is about
    unresolved: list[str] = field(default_factory=list)
    # how sure the source is (rule cue and model combined; 1.0 for catalog and policy facts)
    confidence: float = 1.0


def intent_signal(info: TurnInfo, intent: Intent) -> sig.Signal:
    cues = info.intent.cues.get(intent, [])
    return sig.Signal(name="intent", value=intent.value, detail=", ".join(cues[:3]), turn=info.turn.seq)


def dedupe(signals: list[sig.Signal]) -> list[sig.Signal]:
    seen: set[tuple[str, str, int | None]] = set()
    out = []
    for s in signals:
        key = (s.name, str(s.value), s.turn)
        if key not in seen:
            seen.add(key)
            out.append(s)
    return out
