"""Certification claims: which approvals a buyer asks about, and whether the catalog backs them.

A claim the catalog holds no certificate or attribute for must not be answered with a
datasheet; the AI path (``assist.py``) hands it off as ``unsupported_certification``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from warmline.escalation.evidence import ProductEvidence, Signal
from warmline.escalation.text import PhraseSet, scope

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
