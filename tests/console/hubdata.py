"""Test data through the hub's public REST API (a bot hands off inline conversations)."""

from __future__ import annotations

import itertools
import uuid
from typing import Any

import httpx

from warmline.domain.models import Agent, HandoffCreated, Message

_n = itertools.count(1)


def packet(
    *,
    company: str,
    family: str = "gearbox",
    reason: str = "live_data",
    summary: str = "Pricing and lead time need live account data.",
) -> dict[str, Any]:
    """A realistic packet whose items point back at the transcript turns below."""
    return {
        "reason": reason,
        "sub_reason": "live_pricing",
        "summary": summary,
        "goal": "Replace a worn gearbox on a conveyor line without changing the footprint.",
        "goal_turn": 1,
        "product_family": family,
        "products": [
            {
                "sku": "GBX-4120",
                "name": "Helical gearbox 4120",
                "family": family,
                "role": "candidate",
                "source_turn": 2,
            },
            {
                "sku": "GBX-3100",
                "name": "Helical gearbox 3100",
                "family": family,
                "role": "current",
                "source_turn": 1,
            },
        ],
        "constraints": [
            {"name": "output torque", "value": "> 180", "unit": "N·m", "source_turn": 1},
            {"name": "ratio", "value": "20:1", "unit": "", "source_turn": 3},
        ],
        "documents": [
            {
                "title": "GBX-4120 datasheet",
                "kind": "datasheet",
                "sku": "GBX-4120",
                "score": 0.82,
                "source_turn": 2,
            }
        ],
        "confidence_notes": [{"text": "Torque rating confirmed from the datasheet.", "source_turn": 2}],
        "unresolved": [{"text": "Price for 40 units and delivery to Gothenburg.", "source_turn": 3}],
        "account": {"company": company, "tier": "key", "region": "Nordics"},
        "urgency": "line restart in two weeks",
        "urgency_turn": 3,
        "quantities": [{"amount": 40, "unit": "pcs", "sku": "GBX-4120", "source_turn": 3}],
        "signals": ["pricing_request"],
    }


def conversation(company: str) -> dict[str, Any]:
    return {
        "buyer": {"name": "Maja Lind", "company": company, "email": "maja@example.com", "region": "Nordics"},
        "subject": "Gearbox replacement",
        "messages": [
            {
                "author_kind": "buyer",
                "author_name": "Maja Lind",
                "body": "Our GBX-3100 on line 2 is worn out; we need 180 N·m or more, same footprint.",
            },
            {
                "author_kind": "ai",
                "author_name": "Product AI",
                "body": "The GBX-4120 fits the same flange and is rated 210 N·m (datasheet attached).",
            },
            {
                "author_kind": "buyer",
                "author_name": "Maja Lind",
                "body": "Great. Ratio 20:1. What would 40 units cost and when can you deliver to Gothenburg?",
            },
        ],
    }


class HubData:
    """Synchronous REST calls against a running hub (the hub runs on its own thread)."""

    def __init__(self, base_url: str, bot_token: str, *, agents: dict[str, tuple[Agent, str]]) -> None:
        self.base_url = base_url
        self.bot_token = bot_token
        self.agents = agents
        self.http = httpx.Client(base_url=base_url, timeout=15)

    def close(self) -> None:
        self.http.close()

    def token(self, agent_name: str) -> str:
        return self.agents[agent_name][1]

    def agent(self, agent_name: str) -> Agent:
        return self.agents[agent_name][0]

    def _headers(self, token: str, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}", **extra}

    def create_handoff(
        self,
        company: str | None = None,
        *,
        skills: list[str] | None = None,
        priority: str | None = None,
        family: str = "gearbox",
        reason: str = "live_data",
        summary: str = "Pricing and lead time need live account data.",
    ) -> HandoffCreated:
        """A bot hands off a new conversation (3 turns) with a full packet."""
        company = company or f"Company {next(_n)}"
        body: dict[str, Any] = {
            "conversation": conversation(company),
            "packet": packet(company=company, family=family, reason=reason, summary=summary),
        }
        if skills is not None:
            body["required_skills"] = skills
        if priority is not None:
            body["priority"] = priority
        r = self.http.post(
            "/v1/handoffs",
            json=body,
            headers=self._headers(self.bot_token, **{"Idempotency-Key": uuid.uuid4().hex}),
        )
        assert r.status_code == 201, r.text
        return HandoffCreated.model_validate(r.json())

    def claim(self, agent_name: str, handoff_id: str) -> httpx.Response:
        return self.http.post(
            f"/v1/handoffs/{handoff_id}/claim", headers=self._headers(self.token(agent_name))
        )

    def buyer_says(self, buyer_token: str, conversation_id: str, text: str) -> Message:
        r = self.http.post(
            f"/v1/conversations/{conversation_id}/messages",
            json={"body": text},
            headers=self._headers(buyer_token, **{"Idempotency-Key": uuid.uuid4().hex}),
        )
        assert r.status_code == 201, r.text
        return Message.model_validate(r.json())

    def messages(self, conversation_id: str) -> list[Message]:
        r = self.http.get(f"/v1/conversations/{conversation_id}", headers=self._headers(self.bot_token))
        assert r.status_code == 200, r.text
        return [Message.model_validate(m) for m in r.json()["messages"]]
