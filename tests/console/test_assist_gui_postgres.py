"""The assistant panel against a hub on PostgreSQL with the demo catalog (same contract as SQLite)."""

from __future__ import annotations

import asyncio

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from warmline.domain.assist import AssistKind

from .conftest import wait_until
from .test_assist_gui import DISCONTINUED, card_for, cards, done, gearbox_handoff, jobs_on_hub

pytestmark = [pytest.mark.gui, pytest.mark.postgres]


@pytest.fixture
def hub_database_url(postgres_url) -> str:
    from warmline.catalog.demo import ensure_demo_catalog

    asyncio.run(ensure_demo_catalog(postgres_url))
    return postgres_url


def test_auto_lookups_command_and_internal_notes_on_postgres(data, open_console, run):
    h = gearbox_handoff(
        data,
        "Pg Replaced AB",
        products=DISCONTINUED,
        sub_reason="discontinued_replacement",
        reason="complexity",
        summary="GX-200 is discontinued; the buyer needs a replacement.",
    )
    window = open_console(data.base_url, data.token("anna"))
    window.session.auto_assist_delay = 0
    panel = window.assistant

    async def scenario():
        await wait_until(lambda: done(card_for(window, AssistKind.SPEC, ["GX-200", "GX-220"])), "auto spec")
        await wait_until(lambda: done(card_for(window, AssistKind.SUBSTITUTES, ["GX-200"])), "auto subs")
        subs = card_for(window, AssistKind.SUBSTITUTES, ["GX-200"])
        assert subs.entry.job.result.data["candidates"][0]["product"]["sku"] == "GX-220"
        panel.command.setText("/compare GX-220 GX-240")
        QTest.keyClick(panel.command, Qt.Key.Key_Return)
        await wait_until(lambda: done(card_for(window, AssistKind.COMPARE)), "compare card")
        assert "attributes differ" in card_for(window, AssistKind.COMPARE).body.text()
        await wait_until(
            lambda: sum(m.internal for m in window.session.transcript.messages()) == 3, "3 internal notes"
        )
        buyer = {"Authorization": f"Bearer {h.buyer_token}"}
        r = data.http.get(f"/v1/conversations/{h.handoff.conversation_id}", headers=buyer)
        assert r.status_code == 200 and not any(m.get("internal") for m in r.json()["messages"])
        assert len(jobs_on_hub(data, data.token("anna"), h.handoff.id)) == len(cards(window)) == 3

    run(scenario())
