"""Escalation signals: small, measurable facts about a buyer turn, each a pure function.

Every function takes plain data (text, turns, retrieval evidence, policy values) and
returns ``Signal`` records, so each is unit-tested on its own. The engine gathers them
and the decision rules read them; a reviewer sees them on the decision and the packet.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from pydantic import BaseModel, Field

from warmline.domain.models import AuthorKind
from warmline.escalation.text import PhraseSet, Scoped, scope, similarity, tokens


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


# --- retrieval quality ----------------------------------------------------------------


def weak_retrieval(hits: Sequence[RetrievalHit], threshold: float, turn: int | None = None) -> list[Signal]:
    """The best search hit scores below the threshold (or there is none)."""
    top = max((h.score for h in hits), default=0.0)
    if top >= threshold:
        return []
    detail = f"top catalog match scored {top:.2f} (< {threshold:.2f})" if hits else "no catalog match"
    return [Signal(name="weak_retrieval", value=round(top, 3), detail=detail, turn=turn)]


def source_disagreement(
    products: Sequence[ProductEvidence],
    key_attributes: Sequence[str],
    turn: int | None = None,
    authoritative_kinds: Sequence[str] | None = None,
) -> list[Signal]:
    """Sources disagree on a key value of a product under discussion.

    With ``authoritative_kinds``, only disagreement between technical sources counts: a
    brochure claiming more than the datasheet is a note, not a reason to doubt the datasheet.
    """
    keys = {k.lower() for k in key_attributes}
    technical = {k.lower() for k in authoritative_kinds} if authoritative_kinds is not None else None
    found = []
    for product in products:
        for conflict in product.conflicts:
            if conflict.attribute.lower() not in keys:
                continue
            if technical is not None:
                values = {v for _, kind, v in conflict.values if kind.lower() in technical}
                if len(values) < 2:
                    continue
            values = "; ".join(f"{title} ({kind}): {value}" for title, kind, value in conflict.values)
            found.append(
                Signal(
                    name="source_disagreement",
                    value=f"{product.sku}.{conflict.attribute}",
                    detail=f"{product.sku} {conflict.attribute}: {values}",
                    turn=turn,
                )
            )
    return found


def missing_attributes(
    product: ProductEvidence, asked: Sequence[str], turn: int | None = None
) -> list[Signal]:
    """The answer depends on attributes the catalog does not hold for this product."""
    have = {a.lower() for a in product.attributes}
    missing = [a for a in asked if a.lower() not in have]
    if not missing:
        return []
    return [
        Signal(
            name="missing_attributes",
            value=",".join(missing),
            detail=f"{product.sku} has no catalog value for {', '.join(missing)}",
            turn=turn,
        )
    ]


def document_evidence(
    product: ProductEvidence,
    authoritative_kinds: Sequence[str],
    marketing_kinds: Sequence[str],
    turn: int | None = None,
) -> list[Signal]:
    """No authoritative document for the SKU, or nothing but marketing copy."""
    kinds = [d.kind.lower() for d in product.documents]
    authoritative = {k.lower() for k in authoritative_kinds}
    marketing = {k.lower() for k in marketing_kinds}
    if any(k in authoritative for k in kinds):
        return []
    if kinds and all(k in marketing for k in kinds):
        return [
            Signal(
                name="marketing_only",
                value=product.sku,
                detail=f"{product.sku} is documented only by marketing copy",
                turn=turn,
            )
        ]
    return [
        Signal(
            name="no_authoritative_document",
            value=product.sku,
            detail=f"no datasheet, manual or certificate for {product.sku}",
            turn=turn,
        )
    ]


# --- conversation ---------------------------------------------------------------------


def is_clarifying(body: str) -> bool:
    """An AI turn is a clarification when its last sentence is a question."""
    text = body.strip()
    return text.endswith("?")


def clarification_streak(turns: Sequence[TurnText]) -> int:
    """How many AI turns in a row (ignoring buyer turns) ended in a clarifying question."""
    streak = 0
    for turn in reversed(turns):
        if turn.author_kind == AuthorKind.AI:
            if not is_clarifying(turn.body):
                break
            streak += 1
        elif turn.author_kind == AuthorKind.AGENT:
            break
    return streak


def clarification_loop(turns: Sequence[TurnText], max_clarifications: int) -> list[Signal]:
    """More than ``max_clarifications`` clarifying turns would be needed: the loop is not resolving."""
    streak = clarification_streak(turns)
    if streak < max_clarifications:
        return []
    return [
        Signal(
            name="clarification_loop",
            value=streak,
            detail=f"{streak} clarifying questions in a row have not resolved the request",
            turn=_last_buyer_seq(turns),
        )
    ]


def rephrasing(turns: Sequence[TurnText], min_similarity: float, times: int) -> list[Signal]:
    """The buyer has now asked the same question ``times`` times in different words."""
    buyer = [t for t in turns if t.is_buyer]
    if not buyer:
        return []
    current = buyer[-1]
    if len(tokens(current.body)) < 4:
        return []
    similar = [
        t
        for t in buyer[:-1]
        if len(tokens(t.body)) >= 4 and similarity(current.body, t.body) >= min_similarity
    ]
    if len(similar) + 1 < times:
        return []
    return [
        Signal(
            name="rephrasing",
            value=len(similar) + 1,
            detail=f"same question asked {len(similar) + 1} times (turns "
            f"{', '.join(str(t.seq) for t in [*similar, current])})",
            turn=current.seq,
        )
    ]


# The unmistakable core only: the intent model (``classifier.py``, class "frustration") covers
# the open-ended rest ("this is going nowhere", "ugh, pointless", "for the third time", typos
# and all), so the list no longer grows phrase by phrase. Loose cues that also occur in calm
# messages ("come on", "you keep", "i asked about") were dropped from it.
FRUSTRATION = PhraseSet(
    [
        "not what i asked",
        "not what i asked for",
        "not what i meant",
        "not what i need",
        "that's not what",
        "you're not listening",
        "you are not listening",
        "not listening",
        "useless",
        "i already told you",
        "i already said",
        "already told you",
        "as i already said",
    ]
)


def frustration(text: str, turn: int | None = None) -> list[Signal]:
    """Frustration language: 'this is not what I asked', 'I already told you', ..."""
    found = FRUSTRATION.matches(text)
    if not found:
        return []
    return [
        Signal(name="frustration", value=found[0], detail=f"buyer wrote \u201c{found[0]}\u201d", turn=turn)
    ]


def too_many_products(
    skus: Sequence[str],
    families: Sequence[str],
    max_products: int,
    max_families: int,
    turn: int | None = None,
) -> list[Signal]:
    """A comparison across more products (or families) than a table can settle."""
    unique_skus = list(dict.fromkeys(skus))
    unique_families = [f for f in dict.fromkeys(families) if f]
    if len(unique_skus) > max_products:
        return [
            Signal(
                name="too_many_products",
                value=len(unique_skus),
                detail=f"comparison across {len(unique_skus)} products (> {max_products})",
                turn=turn,
            )
        ]
    if len(unique_families) > max_families:
        return [
            Signal(
                name="too_many_products",
                value=len(unique_families),
                detail=f"comparison across {len(unique_families)} families ({', '.join(unique_families)})",
                turn=turn,
            )
        ]
    return []


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


# --- business rules -------------------------------------------------------------------


def quantity_over_threshold(
    amount: float, family: str | None, threshold: float, turn: int | None = None
) -> list[Signal]:
    """An order quantity above the policy threshold for its product family."""
    if amount <= threshold:
        return []
    what = f" of {family}" if family else ""
    return [
        Signal(
            name="quantity_over_threshold",
            value=amount,
            detail=f"{amount:g} pcs{what} is above the {threshold:g} pcs threshold",
            turn=turn,
        )
    ]


def account_tier(
    tier: str, enterprise: bool, enterprise_tiers: Sequence[str], assisted_tiers: Sequence[str]
) -> list[Signal]:
    """The account is an enterprise account or has an assisted-service tier."""
    found = []
    normalized = (tier or "").lower()
    if enterprise or normalized in {t.lower() for t in enterprise_tiers}:
        found.append(
            Signal(name="enterprise_account", value=normalized or "enterprise", detail="enterprise account")
        )
    if normalized in {t.lower() for t in assisted_tiers}:
        found.append(
            Signal(
                name="assisted_tier",
                value=normalized,
                detail=f"account tier '{normalized}' has assisted service",
            )
        )
    return found


def category_terms(text: str, categories: dict[str, PhraseSet], turn: int | None = None) -> list[Signal]:
    """Regulated or high-risk category words (ATEX, safety-critical, ...) in the text, unless negated."""
    scoped = scope(text)
    found = []
    for category, phrases in categories.items():
        hits = phrases.affirmed(scoped)
        if hits:
            found.append(
                Signal(
                    name="regulated_category",
                    value=category,
                    detail=f"{category}: \u201c{hits[0]}\u201d",
                    turn=turn,
                )
            )
    return found


def lifecycle_replacement(
    product: ProductEvidence, safety_critical_families: Sequence[str], turn: int | None = None
) -> list[Signal]:
    """Replacing a discontinued/superseded or safety-critical product."""
    found = []
    if product.status in {"discontinued", "superseded"}:
        successor = f"; catalog names {product.superseded_by} as successor" if product.superseded_by else ""
        found.append(
            Signal(
                name="discontinued_replacement",
                value=product.sku,
                detail=f"{product.sku} is {product.status}{successor}",
                turn=turn,
            )
        )
    if product.family and product.family in set(safety_critical_families):
        found.append(
            Signal(
                name="safety_critical_replacement",
                value=product.sku,
                detail=f"{product.sku} is in safety-critical family {product.family}",
                turn=turn,
            )
        )
    return found


# --- certification claims -------------------------------------------------------------

# Certifications and approvals buyers ask about: canonical name -> how buyers write it. A
# claim the catalog holds no document or attribute for must not be answered with a datasheet.
CERTIFICATIONS: dict[str, list[str]] = {
    "UL": [
        "ul",
        "ul listed",
        "ul listing",
        "ul recognized",
        "ul recognised",
        "cul",
        "c-ul",
        "culus",
        "ul508",
    ],
    "CSA": ["csa"],
    "CE": ["ce", "ce marked", "ce marking", "ce mark", "declaration of conformity"],
    "UKCA": ["ukca"],
    "RoHS": ["rohs"],
    "REACH": ["reach compliant", "reach compliance", "reach declaration", "reach certificate", "svhc"],
    "ATEX": ["atex", "iecex", "eu-type examination"],
    "DNV": ["dnv", "dnv-gl", "dnv gl", "lloyd's", "lloyds register", "type approval", "marine approval"],
    "NSF": ["nsf"],
    "WRAS": ["wras", "ktw", "acs approval", "drinking water approval"],
    "EHEDG": ["ehedg", "3-a"],
    "FDA": ["fda"],
    "TÜV": ["tuv", "tüv"],
    "VDE": ["vde"],
    "EAC": ["eac"],
    "CCC": ["ccc"],
}
_CERT_SETS = {name: PhraseSet(words, max_gap=0) for name, words in CERTIFICATIONS.items()}
# Evidence words per certification, looked for in document titles and attribute names/values.
_CERT_EVIDENCE = {
    "ATEX": ("atex", "eu-type examination", "ii 2g", "ii 3g", "ex "),
    "CE": ("ce ", "ce-", "declaration of conformity"),
}


def certification_claims(text: str) -> list[str]:
    """Certifications the buyer asks about ("is it UL listed?", "RoHS compliant?"), unless negated."""
    scoped = scope(text)
    return [name for name, phrases in _CERT_SETS.items() if phrases.affirmed(scoped)]


def certification_evidence(product: ProductEvidence, certification: str) -> str | None:
    """Where the catalog backs a certification for a product (a document or attribute), or None."""
    words = _CERT_EVIDENCE.get(certification, ()) + tuple(w.lower() for w in CERTIFICATIONS[certification])
    for doc in product.documents:
        title = f" {doc.title.lower()} "
        if doc.kind.lower() in {"certificate", "standard"} and any(_word_in(w, title) for w in words):
            return f"{doc.title} ({doc.kind})"
    for name, value in product.attributes.items():
        if name.lower() == certification.lower():
            return f"{name}: {value}"
        if name.lower() in {"certification", "certifications", "approvals", "approval", "listing"} and any(
            _word_in(w, f" {value.lower()} ") for w in words
        ):
            return f"{name}: {value}"
    return None


def unsupported_certification(
    product: ProductEvidence, certifications: Sequence[str], turn: int | None = None
) -> list[Signal]:
    """Certifications asked about that the catalog holds no document or attribute for."""
    return [
        Signal(
            name="unsupported_certification",
            value=f"{product.sku}.{cert}",
            detail=f"no {cert} certificate or approval on file for {product.sku}",
            turn=turn,
        )
        for cert in certifications
        if certification_evidence(product, cert) is None
    ]


def _word_in(word: str, text: str) -> bool:
    return re.search(rf"(?<![a-z0-9]){re.escape(word.strip())}(?![a-z0-9])", text) is not None


# --- live business data ---------------------------------------------------------------


def live_data_needs(text: str, categories: dict[str, PhraseSet], turn: int | None = None) -> list[Signal]:
    """Questions only live systems answer: stock, contract pricing, lead time, quote status, entitlements.

    A negated mention ("I'm not asking about price") is not a question.
    """
    scoped = scope(text)
    found = []
    for kind, phrases in categories.items():
        hits = phrases.affirmed(scoped)
        if hits:
            found.append(
                Signal(name="live_data", value=kind, detail=f"{kind}: \u201c{hits[0]}\u201d", turn=turn)
            )
    return found


def _last_buyer_seq(turns: Sequence[TurnText]) -> int | None:
    for turn in reversed(turns):
        if turn.is_buyer:
            return turn.seq
    return None
