"""Family words from the skills taxonomy: spotting a product family when no SKU is named."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from warmline.escalation.text import PhraseSet, tokens
from warmline.resources import resource_path


@dataclass(frozen=True)
class FamilyTerms:
    """family -> the words buyers use for it (``[family_terms]`` in resources/skills.toml)."""

    terms: dict[str, PhraseSet]

    @classmethod
    def load(cls, path: Path | None = None) -> FamilyTerms:
        return _load(str(path or resource_path("skills.toml")))

    def families_in(self, text: str) -> list[str]:
        """Families named in a text, in the order they appear."""
        words = tokens(text)
        found: list[tuple[int, str]] = []
        for family, phrases in self.terms.items():
            positions = phrases.positions(words)
            if positions:
                found.append((min(p for _, p in positions), family))
        return [f for _, f in sorted(found)]


@cache
def _load(path: str) -> FamilyTerms:
    data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    return FamilyTerms(
        {family: PhraseSet(words, max_gap=0) for family, words in data.get("family_terms", {}).items()}
    )
