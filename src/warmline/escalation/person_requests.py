"""Explicit requests for a person, from the rules side (the intent model covers the open rest).

A person noun with a verb of asking or contacting in one clause that is not negated and not
about the buyer's own people. ``rules.py`` combines this signal with the model's
``person_request`` probability.
"""

from __future__ import annotations

from collections.abc import Sequence

from warmline.escalation.evidence import Signal
from warmline.escalation.text import PhraseSet, Scoped, scope

# An explicit request is a person noun together with a verb of asking or contacting, in one
# clause that is not negated: "talk to an engineer", "get me a sales rep" (asking verb, then
# the person), or "could one of your colleagues ring me", "can someone call us back" (the
# person, then a contact verb aimed at the buyer). "No need to talk to sales" is negated;
# "our engineer will call you" names the buyer's own people and is not a request.
_ASK = PhraseSet(
    [
        "talk to",
        "talk with",
        "speak to",
        "speak with",
        "chat with",
        "connect me",
        "put me through",
        "transfer me",
        "get me",
        "can i get",
        "could i get",
        "can i have",
        "i want",
        "i'd like",
        "i would like",
        "i need",
        "we need",
        "we want",
        "we'd like",
        "we would like",
        "need to reach",
        "reach",
        "contact",
        "call me",
        "call us",
        "ring me",
        "ring us",
        "phone me",
        "phone us",
        "email me",
        "email us",
        "have someone",
        "can someone",
        "could someone",
        "is there someone",
        "is there somebody",
        "is there anyone",
        "is there anybody",
        "is there a",
        "is there an",
        "can a",
        "could a",
        "can an",
        "could an",
        "loop in",
        "bring in",
        "escalate",
        "hand me",
        "pass me",
        "send me to",
        "let me talk",
        "let me speak",
        "prefer",
        "rather talk",
        "rather speak",
    ],
    max_gap=0,
)
_PERSON = PhraseSet(
    [
        "person",
        "human",
        "humans",
        "real person",
        "someone",
        "somebody",
        "anyone",
        "anybody",
        "agent",
        "live agent",
        "representative",
        "rep",
        "reps",
        "sales rep",
        "salesperson",
        "sales person",
        "sales team",
        "sales",
        "engineer",
        "engineers",
        "applications engineer",
        "application engineer",
        "specialist",
        "specialists",
        "expert",
        "experts",
        "support",
        "support team",
        "technician",
        "account manager",
        "colleague",
        "colleagues",
        "people",
        "operator",
        "staff",
        "team member",
        "manager",
        "one of you",
    ],
    max_gap=0,
)
# Verbs of contacting a person; followed by "me", "us" or "back" they ask for contact.
_CONTACT = PhraseSet(
    [
        "call",
        "ring",
        "phone",
        "email",
        "e-mail",
        "contact",
        "reach",
        "reach out",
        "get back",
        "get in touch",
        "talk",
        "speak",
        "chat",
        "meet",
        "visit",
        "walk",
        "go through",
    ],
    max_gap=0,
)
_TO_BUYER = frozenset({"me", "us", "back"})
_CONVERSE = frozenset({"talk", "speak", "chat", "meet"})
_BUYER_SUBJECT = frozenset({"i", "we"})
_BUYERS_OWN = frozenset({"our", "my", "their", "his", "her"})
_STANDALONE = PhraseSet(
    [
        "human please",
        "real person",
        "live agent",
        "human agent",
        "call me back",
        "call us back",
        "speak to someone",
        "talk to someone",
        "get a human",
        "actual person",
        "not a bot",
        "no more bot",
        "stop the bot",
    ],
    max_gap=1,
)


def explicit_request(text: str, turn: int | None = None) -> list[Signal]:
    """The buyer asks for a person, a sales rep, an engineer or support, typos included."""
    scoped = scope(text)
    words = scoped.words
    for phrase in _STANDALONE.affirmed(scoped):
        return [_explicit(phrase, turn)]
    for phrase, at in _ASK.affirmed_positions(scoped):
        end = at + len(phrase.split())
        tail = _same_clause(scoped, at, end, end + 6)
        people = [p for p, i in _PERSON.positions(tail) if not _buyers_own(tail, i)]
        if people:
            return [_explicit(f"{phrase} … {people[0]}", turn)]
    for person in _PERSON.phrases:
        for at in person.find_all(words):
            if scoped.negated(at, len(person.words)) or _buyers_own(words, at):
                continue
            end = at + len(person.words)
            tail = _same_clause(scoped, at, end, end + 7)
            for verb, i in _CONTACT.positions(tail):
                after = tail[i + len(verb.split()) : i + len(verb.split()) + 3]
                # "someone call me back", or "anybody I could speak with" (the buyer talks to them)
                if _TO_BUYER.intersection(after) or (
                    verb in _CONVERSE and _BUYER_SUBJECT.intersection(tail[:i])
                ):
                    return [_explicit(f"{person.text} … {verb}", turn)]
    return []


def _same_clause(scoped: Scoped, at: int, start: int, stop: int) -> list[str]:
    """Words ``start:stop`` that are in the same clause as the word at ``at``."""
    clause = scoped.clauses[at]
    return [
        w for w, c in zip(scoped.words[start:stop], scoped.clauses[start:stop], strict=True) if c == clause
    ]


def _buyers_own(words: Sequence[str], at: int) -> bool:
    """The person noun belongs to the buyer ("our engineer"), so it is not someone to hand to."""
    return any(w in _BUYERS_OWN for w in words[max(0, at - 2) : at])


def _explicit(phrase: str, turn: int | None) -> Signal:
    return Signal(
        name="explicit_request",
        value=phrase,
        detail=f"buyer asked for a person (\u201c{phrase}\u201d)",
        turn=turn,
    )
