"""Routing: the skills a handoff needs and its priority, inferred from packet and intent.

Skills come from the skills taxonomy (resources/skills.toml): the product families of
the packet's SKUs, plus the reason, sub-reason, intent and certification topics. So the
queue's "my expertise" view works without anyone tagging handoffs by hand.
"""

from __future__ import annotations

from warmline.domain.packet import HandoffPacket, Priority, ReasonCategory
from warmline.domain.skills import Taxonomy, default_taxonomy
from warmline.escalation.policy import Policy

# urgency phrases meaning something is stopped right now
_OUTAGE_WORDS = ("down", "stopped", "standstill", "emergency", "downtime")
_SOON_WORDS = (
    "today",
    "tomorrow",
    "asap",
    "as soon as possible",
    "urgent",
    "immediately",
    "right away",
    "this week",
    "by friday",
    "by monday",
    "within days",
    "end of the week",
    "end of week",
)


def route(
    packet: HandoffPacket,
    intent: str | None = None,
    *,
    policy: Policy | None = None,
    taxonomy: Taxonomy | None = None,
) -> tuple[list[str], Priority]:
    """(required skills, priority) for a packet; ``intent`` is the buyer's last intent, if known."""
    taxonomy = taxonomy or default_taxonomy()
    policy = policy or _default_policy()
    families = [f for f in [packet.product_family, *(p.family for p in packet.products)] if f]
    keys = [packet.reason.value, packet.sub_reason, intent or ""]
    keys += [c.value.lower() for c in packet.constraints if c.name == "certification"]
    if any(c.name == "atex" for c in packet.constraints):
        keys.append("atex")
    skills = taxonomy.skills_for(families=list(dict.fromkeys(families)), reasons=[k for k in keys if k])
    return skills, priority_for(packet, intent, policy)


def priority_for(packet: HandoffPacket, intent: str | None, policy: Policy) -> Priority:
    """Urgent for outages; high for buying moments and near deadlines; key accounts one step up."""
    urgency = packet.urgency.lower()
    if intent == "urgent_support" or any(w in urgency for w in _OUTAGE_WORDS):
        return Priority.URGENT
    high = (
        packet.reason is ReasonCategory.PURCHASE_INTENT
        or packet.sub_reason in {"quantity_threshold", "quote_status"}
        or any(w in urgency for w in _SOON_WORDS)
    )
    priority = Priority.HIGH if high else Priority.NORMAL
    tier = packet.account.tier.lower()
    if packet.account.enterprise or tier in {t.lower() for t in policy.accounts.priority_tiers}:
        priority = Priority.HIGH  # a key account moves up one step; only an outage is urgent
    return priority


_POLICY: Policy | None = None


def _default_policy() -> Policy:
    global _POLICY
    if _POLICY is None:
        _POLICY = Policy.load()
    return _POLICY
