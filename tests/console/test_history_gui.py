"""Issue 18 item 8 in the console, against a real hub: the History window finds a resolved
conversation by company, buyer, SKU or message text, opens it, and reopens it when the buyer
wrote again (a new handoff, claimed by me, selected in the queue)."""

from __future__ import annotations

import pytest
from PySide6.QtTest import QTest

from warmline.domain.models import HandoffStatus

from .conftest import wait_until

pytestmark = pytest.mark.gui


def test_history_finds_opens_and_reopens_a_resolved_conversation(data, open_console, run):
    old = data.create_handoff("Archive Mills AB", skills=["drives"], priority="normal")
    live = data.create_handoff("Live Queue Oy", skills=["drives"], priority="urgent")
    hid, conv = old.handoff.id, old.handoff.conversation_id
    assert data.claim("anna", hid).status_code == 200
    anna = {"Authorization": f"Bearer {data.token('anna')}"}
    r = data.http.post(f"/v1/handoffs/{hid}/resolve", headers=anna)
    assert r.status_code == 200, r.text
    window = open_console(data.base_url, data.token("anna"))
    s = window.session

    async def scenario():
        await wait_until(lambda: window.card.handoff is not None, "the queue's first handoff shown")
        assert s.current_id == live.handoff.id and s.queue.row_for_id(hid) < 0  # resolved: not queued
        view = window.show_history()
        await wait_until(lambda: view.searches >= 1, "the first search (everything)")
        assert {i.handoff.buyer_company for i in view.items} >= {"Archive Mills AB", "Live Queue Oy"}
        for words in ("archive", "maja lind", "GBX-4120", "gothenburg"):  # company, buyer, SKU, text
            view.search.setText(words)
            await wait_until(lambda w=words: view.searches and view.query() == w and view.items, words)
            assert "Archive Mills AB" in [i.handoff.buyer_company for i in view.items], words
        view.search.setText("archive")
        view.status.setCurrentIndex(1)  # Resolved
        await wait_until(
            lambda: [i.handoff.id for i in view.items] == [hid] and view.status.currentData() == "resolved",
            "only the resolved one",
        )
        assert view.table.item(0, 2).text() == "Resolved"
        assert view.open_button.isEnabled() and view.reopen_button.isEnabled()
        # Open: the main window shows it, read-only
        view.open_button.click()
        await wait_until(lambda: window.card.handoff and window.card.handoff.id == hid, "the past handoff")
        assert not window.composer.edit.isEnabled() and "resolved" in window.composer.hint.text()
        # the buyer writes again: the row says so, and Reopen gives me a new handoff
        data.buyer_says(old.buyer_token, conv, "Sorry, one more thing: can you also quote 12 seals?")
        view.run_search()
        await wait_until(lambda: view.items and view.items[0].buyer_wrote_after_resolve, "buyer wrote again")
        assert view.table.item(0, 2).text() == "Resolved · buyer wrote again"
        view.reopen_button.click()
        await wait_until(
            lambda: s.current is not None and s.current.conversation_id == conv and s.is_mine(),
            "the reopened handoff, mine, shown",
        )
        assert s.current.id != hid and s.current.status == HandoffStatus.CLAIMED
        assert window.queue_panel.proxy.index(0, 0).data() == "Mine"
        assert window.composer.edit.isEnabled()
        view.close()

    run(scenario())


def test_ctrl_h_opens_the_history_window(data, open_console, run):
    window = open_console(data.base_url, data.token("bob"))

    async def scenario():
        await wait_until(lambda: window.session.loaded, "signed in")
        QTest.keySequence(window, "Ctrl+H")
        await wait_until(lambda: window.history_view is not None and window.history_view.isVisible(), "shown")
        await wait_until(lambda: window.history_view.searches >= 1, "searched")
        assert window.history_view.items == []  # nothing handed off yet
        assert "0 conversations" in window.history_view.summary.text()
        window.history_view.close()

    run(scenario())
