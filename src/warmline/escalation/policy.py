"""The escalation policy: thresholds, rules and category lists, from TOML.

Defaults ship in ``resources/policy.toml`` (documented there and in
docs/escalation.md); a workspace overrides any key with its own TOML file.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from warmline.domain.packet import ReasonCategory
from warmline.resources import resource_path

POLICY_ENV = "WARMLINE_POLICY_FILE"


class PolicyError(ValueError):
    """A policy file that cannot be used; the message names the file, the key and why."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EscalateRules(_Section):
    low_confidence: bool = True
    live_data: bool = True
    purchase_intent: bool = True
    complexity: bool = True
    explicit_request: bool = True
    policy_rule: bool = True
    order: list[ReasonCategory] = Field(default_factory=lambda: list(ReasonCategory))

    def enabled(self, reason: ReasonCategory) -> bool:
        return bool(getattr(self, reason.value))

    @field_validator("order")
    @classmethod
    def _complete(cls, order: list[ReasonCategory]) -> list[ReasonCategory]:
        missing = [r.value for r in ReasonCategory if r not in order]
        if missing or len(set(order)) != len(order):
            raise ValueError(f"must list every reason exactly once (missing: {missing or 'none'})")
        return order


class RetrievalRules(_Section):
    weak_top_score: float = Field(default=0.35, ge=0, le=1)
    authoritative_kinds: list[str] = Field(default_factory=list)
    marketing_kinds: list[str] = Field(default_factory=list)
    key_attributes: list[str] = Field(default_factory=list)


class ConversationRules(_Section):
    max_clarifications: int = Field(default=2, ge=0)
    rephrase_similarity: float = Field(default=0.6, gt=0, le=1)
    rephrase_times: int = Field(default=3, ge=2)
    max_compared_products: int = Field(default=4, ge=2)
    max_compared_families: int = Field(default=2, ge=1)


class BusinessRules(_Section):
    quantity_threshold: float = Field(default=100, gt=0)
    family_quantity_thresholds: dict[str, float] = Field(default_factory=dict)

    def threshold_for(self, family: str | None) -> float:
        """The order-quantity threshold for a product family (the default when unknown)."""
        return self.family_quantity_thresholds.get(family or "", self.quantity_threshold)


class AccountRules(_Section):
    assisted_tiers: list[str] = Field(default_factory=list)
    assisted_intents: list[str] = Field(default_factory=list)
    enterprise_tiers: list[str] = Field(default_factory=list)
    enterprise_intents: list[str] = Field(default_factory=list)
    priority_tiers: list[str] = Field(default_factory=list)


class ModelRules(_Section):
    """How the learned intent layer (``classifier.py``) combines with the rule signals."""

    enabled: bool = True
    # An escalation-sensitive intent counts when its combined confidence reaches this.
    threshold: float = Field(default=0.5, gt=0, lt=1)
    # What a matching rule cue (a phrase list hit) contributes on its own.
    rule_confidence: float = Field(default=0.8, ge=0, le=1)
    # A routine intent (lookup, comparison, ...) from the model replaces "other" from the rules
    # when its probability reaches this.
    routine_threshold: float = Field(default=0.6, gt=0, lt=1)


class JudgeRules(_Section):
    """The optional language-model judge (``judge.py``): off, tie-break or veto-unnecessary."""

    mode: str = Field(default="off", pattern="^(off|tie_break|veto_unnecessary)$")
    # tie_break: the judge decides only when the local decision's confidence is below this.
    tie_band: float = Field(default=0.65, gt=0, le=1)
    # veto_unnecessary: the judge's "no handoff" overrides the engine at or above this confidence,
    # never for explicit requests or policy rules.
    veto_confidence: float = Field(default=0.8, gt=0, le=1)
    timeout_seconds: float = Field(default=4.0, gt=0, le=60)


class EngineRules(_Section):
    # CPU budget for reading one new buyer message (off the event loop); on overrun the engine
    # decides from the parts that finished and says so in the signals.
    turn_budget_ms: float = Field(default=400, gt=0, le=60_000)


class Policy(BaseModel):
    """Everything the engine's decisions depend on that a workspace may want to change."""

    model_config = ConfigDict(extra="forbid")

    escalate: EscalateRules = Field(default_factory=EscalateRules)
    retrieval: RetrievalRules = Field(default_factory=RetrievalRules)
    conversation: ConversationRules = Field(default_factory=ConversationRules)
    business: BusinessRules = Field(default_factory=BusinessRules)
    accounts: AccountRules = Field(default_factory=AccountRules)
    model: ModelRules = Field(default_factory=ModelRules)
    judge: JudgeRules = Field(default_factory=JudgeRules)
    engine: EngineRules = Field(default_factory=EngineRules)
    # category -> cue phrases (atex, safety_critical, food_contact, ...)
    regulated: dict[str, list[str]] = Field(default_factory=dict)
    # sub-reason -> cue phrases (stock, pricing, lead_time, quote_status, entitlements)
    live_data: dict[str, list[str]] = Field(default_factory=dict)
    # the hub's team rules (reply timeout, idle flag, capacity): read by warmline.hub.assignment
    assignment: dict[str, float | int] = Field(default_factory=dict)
    # product family -> attributes needed before recommending
    clarify: dict[str, list[str]] = Field(default_factory=dict)

    @property
    def safety_critical_families(self) -> list[str]:
        return list(self.regulated.get("safety_critical_families", []))

    @property
    def regulated_terms(self) -> dict[str, list[str]]:
        """Regulated categories and their cue phrases (without the family list)."""
        return {k: list(v) for k, v in self.regulated.items() if k != "safety_critical_families"}

    @classmethod
    def load(cls, path: Path | str | None = None) -> Policy:
        """The shipped defaults, overridden by ``path`` or by the file in $WARMLINE_POLICY_FILE."""
        defaults_path = resource_path("policy.toml")
        data = _read(defaults_path)
        override = path if path is not None else os.environ.get(POLICY_ENV) or None
        sources = [defaults_path]
        if override is not None:
            override_path = Path(override)
            data = _merge(data, _read(override_path))
            sources.append(override_path)
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
            )
            raise PolicyError(f"policy from {', '.join(map(str, sources))} is invalid: {problems}") from exc

    @classmethod
    def defaults(cls) -> Policy:
        """The shipped defaults alone, ignoring any workspace override."""
        return cls.model_validate(_read(resource_path("policy.toml")))


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise PolicyError(f"policy file not found: {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"policy file {path} is not valid TOML: {exc}") from exc


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Tables merge key by key; any other value (lists included) replaces the default."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged
