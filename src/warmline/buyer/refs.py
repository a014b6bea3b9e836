"""What an AI turn was based on, kept for the web widget: SKU chips and source links.

The hub's product AI (``warmline.hub.assistant``) calls ``save_turn_refs`` in the same
transaction as the turn it posts; ``GET /v1/widget/state`` hands them to the buyer's page.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from warmline.buyer.tables import MessageRefRow

MAX_SKUS = 8
MAX_SOURCES = 6


def turn_refs(decision: Any) -> dict[str, Any]:
    """SKUs, source documents, outcome and (for an escalation) the plain reason of a Decision."""
    skus: list[str] = []
    names: dict[str, str] = {}
    sources: list[dict[str, str]] = []
    seen_docs: set[tuple[str, str]] = set()
    for doc in decision.sources or []:
        if doc.sku and doc.sku not in skus:
            skus.append(doc.sku)
        ident = (doc.sku or "", doc.title)
        if ident in seen_docs or doc.kind == "table":
            continue
        seen_docs.add(ident)
        sources.append({"title": doc.title, "kind": doc.kind, "sku": doc.sku or "", "ref": doc.ref or ""})
    if any(d["kind"] != "marketing" for d in sources):  # marketing copy only when nothing else
        sources = [d for d in sources if d["kind"] != "marketing"]
    packet = decision.packet
    if packet is not None:
        for product in packet.products:
            if product.sku and product.sku not in skus:
                skus.append(product.sku)
            if product.sku and product.name:
                names[product.sku] = product.name
    data: dict[str, Any] = {
        "outcome": str(getattr(decision.outcome, "value", decision.outcome)),
        "skus": [{"sku": s, "name": names.get(s, "")} for s in skus[:MAX_SKUS]],
        "sources": sources[:MAX_SOURCES],
    }
    if decision.escalates and packet is not None:
        data["reason"] = str(getattr(packet.reason, "value", packet.reason))
        data["reason_text"] = packet.summary
    return data


async def save_turn_refs(
    session: AsyncSession, *, conversation_id: str, message_id: str, decision: Any
) -> None:
    """Record the turn's references (nothing when it had none)."""
    data = turn_refs(decision)
    if not data["skus"] and not data["sources"] and "reason" not in data:
        return
    session.add(MessageRefRow(message_id=message_id, conversation_id=conversation_id, data=data))
    await session.flush()
