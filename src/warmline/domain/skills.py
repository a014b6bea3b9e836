"""The skills taxonomy and the simplest routing rule: which skills a handoff needs."""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from warmline.resources import resource_path


@dataclass(frozen=True)
class Taxonomy:
    labels: dict[str, str]
    families: dict[str, list[str]] = field(default_factory=dict)
    reasons: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path | None = None) -> Taxonomy:
        data = tomllib.loads((path or resource_path("skills.toml")).read_text(encoding="utf-8"))
        return cls(
            labels={k: v.get("label", k) for k, v in data.get("skills", {}).items()},
            families={k: list(v) for k, v in data.get("families", {}).items()},
            reasons={k: list(v) for k, v in data.get("reasons", {}).items()},
        )

    def label(self, skill: str) -> str:
        return self.labels.get(skill, skill)

    def skills_for(self, *, families: Sequence[str], reasons: Sequence[str] = ()) -> list[str]:
        """Skills needed for these product families and escalation reasons, in taxonomy order."""
        needed: set[str] = set()
        for family in families:
            needed.update(self.families.get(family, ()))
        for reason in reasons:
            needed.update(self.reasons.get(reason, ()))
        order = list(self.labels)
        return sorted(needed, key=lambda s: (order.index(s) if s in order else len(order), s))


@cache
def default_taxonomy() -> Taxonomy:
    return Taxonomy.load()
