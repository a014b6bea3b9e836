"""Family words from the skills taxonomy: spotting a product family when no SKU is named."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from warmline.escalation.text import PhraseSet, tokens
from warmline.resources import resource_path

# family words in different list items or clauses are different products
_CHUNKS = re.compile(r"[,;:.!?()/]|\b(?:and|or|plus|with|and/or|for)\b", re.I)


@dataclass(frozen=True)
class FamilyTerms:
    """family -> the words buyers use for it (``[family_terms]`` in resources/skills.toml)."""

    terms: dict[str, PhraseSet]

    @classmethod
    def load(cls, path: Path | None = None) -> FamilyTerms:
        return _load(str(path or resource_path("skills.toml")))

    def families_in(self, text: str) -> list[str]:
        """Families named in a text, in the order they appear."""
        heads: list[str] = []
        for chunk in _CHUNKS.split(text):
            words = tokens(chunk)
            found: list[tuple[int, int, str]] = []
            for family, phrases in self.terms.items():
                for phrase, at in phrases.positions(words):
                    found.append((at, at + len(tokens(phrase)), family))
            found.sort()
            # in "sensor cable" the last noun is the product: drop a family word right before another
            heads += [
                f for i, (_, end, f) in enumerate(found) if not any(s == end for s, _, _ in found[i + 1 :])
            ]
        return list(dict.fromkeys(heads))


@cache
def _load(path: str) -> FamilyTerms:
    data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    return FamilyTerms(
        {family: PhraseSet(words, max_gap=0) for family, words in data.get("family_terms", {}).items()}
    )
