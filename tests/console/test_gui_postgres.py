"""The console's core loop against a hub on PostgreSQL (LISTEN/NOTIFY wake-ups, same contract)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from .conftest import wait_until

pytestmark = [pytest.mark.gui, pytest.mark.postgres]


@pytest.fixture
def hub_database_url(postgres_url) -> str:
    return postgres_url


def test_queue_claim_reply_and_live_updates_on_postgres(data, open_console, run):
    mine = data.create_handoff("Pg Mine AB", skills=["drives"], priority="urgent")
    other = data.create_handoff("Pg Other AB", skills=["drives"])
    hidden = data.create_handoff("Pg Pumps Oy", skills=["pumps"], family="pump")
    window = open_console(data.base_url, data.token("anna"))
    session = window.session

    def companies() -> list[str]:
        proxy = window.queue_panel.proxy
        return [
            proxy.index(r, 0).data(Qt.ItemDataRole.UserRole + 1).buyer_company
            for r in range(proxy.rowCount())
        ]

    async def scenario():
        await wait_until(lambda: window.card.handoff is not None, "first handoff shown")
        assert companies() == ["Pg Mine AB", "Pg Other AB"]
        assert session.queue.row_for_id(hidden.handoff.id) >= 0  # in the model, filtered out of my view
        QTest.keyClick(
            window, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
        )
        await wait_until(lambda: window.composer.edit.isEnabled(), "claimed by shortcut")
        QTest.keyClicks(window.composer.edit, "On it.")
        QTest.keyClick(window.composer.edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        await wait_until(lambda: window.composer.edit.toPlainText() == "", "reply queued")
        await wait_until(  # the box clears once the reply is safe in the outbox; then it goes out
            lambda: "On it." in [m.body for m in session.transcript.messages()], "reply sent"
        )
        assert [m.body for m in data.messages(mine.handoff.conversation_id)].count("On it.") == 1
        data.buyer_says(mine.buyer_token, mine.handoff.conversation_id, "Thanks!")
        await wait_until(
            lambda: "Thanks!" in [m.body for m in session.transcript.messages()], "buyer reply live"
        )
        assert data.claim("bob", other.handoff.id).status_code == 200
        await wait_until(lambda: "Pg Other AB" not in companies(), "bob's claim leaves my queue")

    run(scenario())
