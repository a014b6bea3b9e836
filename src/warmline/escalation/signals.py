"""Escalation signals: small, measurable facts about a buyer turn, each a pure function.

Every function takes plain data (text, turns, retrieval evidence, policy values) and
returns ``Signal`` records, so each is unit-tested on its own. The engine gathers them
and the decision rules read them; a reviewer sees them on the decision and the packet.
The records live in ``evidence.py``; person requests in ``person_requests.py`` and
certification claims in ``certifications.py`` (re-exported here).
"""

from __future__ import annotations

from collections.abc import Sequence

from warmline.domain.models import AuthorKind
from warmline.escalation.certifications import (
    CERTIFICATIONS,
    certification_claims,
    certification_evidence,
    unsupported_certification,
)
from warmline.escalation.evidence import (
    DocumentRef,
    ProductEvidence,
    RetrievalHit,
    Signal,
    TurnText,
    ValueConflict,
)
from warmline.escalation.person_requests import explicit_request
from warmline.escalation.text import PhraseSet, scope, similarity, tokens

__all__ = [
    "CERTIFICATIONS",
    "DocumentRef",
    "ProductEvidence",
    "RetrievalHit",
    "Signal",
    "TurnText",
    "ValueConflict",
    "certification_claims",
    "certification_evidence",
    "explicit_request",
    "unsupported_certification",
]


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
