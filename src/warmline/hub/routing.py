"""Routing inference for handoffs whose bot did not say who should take them.

The rule lives in the escalation layer (``warmline.escalation.routing.route``: skills
from product families, reason and intent; priority from purchase intent, urgency and
account tier), so handoffs made by the engine and handoffs posted by external bots are
routed the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

from warmline.domain.packet import HandoffPacket, Priority
from warmline.escalation.routing import route


@dataclass(frozen=True)
class Routing:
    required_skills: list[str]
    priority: Priority


def infer_routing(packet: HandoffPacket) -> Routing:
    """Skills and priority for a packet posted without them (no intent known)."""
    skills, priority = route(packet)
    return Routing(required_skills=skills, priority=priority)
