"""Routing inference: which skills a handoff needs and how urgent it is, from its packet.

Kept in one function so the escalation engine can replace the rule without touching the hub.
"""

from __future__ import annotations

from dataclasses import dataclass

from warmline.domain.packet import HandoffPacket, Priority, ReasonCategory
from warmline.domain.skills import default_taxonomy


@dataclass(frozen=True)
class Routing:
    required_skills: list[str]
    priority: Priority


def infer_routing(packet: HandoffPacket) -> Routing:
    """Skills from the product families and reasons; high priority for buying, urgency, enterprise."""
    families = [packet.product_family] + [p.family for p in packet.products]
    skills = default_taxonomy().skills_for(
        families=[f for f in families if f], reasons=[r for r in (packet.reason, packet.sub_reason) if r]
    )
    high = (
        packet.reason is ReasonCategory.PURCHASE_INTENT
        or bool(packet.urgency.strip())
        or packet.account.enterprise
        or packet.account.tier == "enterprise"
    )
    return Routing(required_skills=skills, priority=Priority.HIGH if high else Priority.NORMAL)
