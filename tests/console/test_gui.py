"""The console against a real embedded hub, driven offscreen through its widgets."""

from __future__ import annotations

import asyncio

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLabel

from warmline.console.models.queue_model import COL_COMPANY, COL_REASON
from warmline.domain.models import AuthorKind, HandoffStatus

from .conftest import wait_until

pytestmark = pytest.mark.gui
CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


def companies(window) -> list[str]:
    proxy = window.queue_panel.proxy
    return [proxy.index(r, COL_COMPANY).data() for r in range(proxy.rowCount())]


def transcript_bodies(window) -> list[str]:
    return [m.body for m in window.session.transcript.messages()]


def test_queue_fills_and_expertise_filter_hides_what_i_cannot_take(data, open_console, run):
    data.create_handoff("Drives Only AB", skills=["drives"], priority="normal")
    data.create_handoff("Pumps Only Oy", skills=["pumps"], family="pump", priority="high")
    data.create_handoff("Drives Quotes GmbH", skills=["drives", "quotes"], priority="urgent")
    window = open_console(data.base_url, data.token("anna"))

    async def scenario():
        await wait_until(lambda: window.session.queue.rowCount() == 3, "three handoffs in the queue")
        # anna has drives+quotes: the pumps handoff is hidden in "My expertise", urgent first
        assert companies(window) == ["Drives Quotes GmbH", "Drives Only AB"]
        window.queue_panel.all_button.click()
        assert companies(window) == ["Drives Quotes GmbH", "Pumps Only Oy", "Drives Only AB"]
        window.queue_panel.mine_button.click()
        assert "Pumps Only Oy" not in companies(window)
        # a new handoff arrives live, no refresh, in priority order
        data.create_handoff("Live Arrival AS", skills=["drives"], priority="high")
        await wait_until(lambda: "Live Arrival AS" in companies(window), "the live handoff in the queue")
        assert companies(window) == ["Drives Quotes GmbH", "Live Arrival AS", "Drives Only AB"]
        # the text filter narrows further
        QTest.keyClicks(window.queue_panel.filter_edit, "live arr")
        assert companies(window) == ["Live Arrival AS"]
        window.queue_panel.filter_edit.clear()
        assert "connected" in window.connection_text.lower()
        assert window.queue_panel.proxy.index(0, COL_REASON).data() == "Needs live data"

    run(scenario())


def test_selecting_shows_packet_card_and_transcript_and_source_turn_jumps(data, open_console, run):
    created = data.create_handoff("Nordic Pulp AB", skills=["drives"])
    window = open_console(data.base_url, data.token("anna"))

    async def scenario():
        await wait_until(
            lambda: window.card.handoff is not None, "the first handoff auto-selected and rendered"
        )
        assert window.card.handoff.id == created.handoff.id
        labels = window.card.section_labels
        assert "Needs live data" in labels["why"].text()
        assert "Pricing and lead time need live account data." in labels["why"].text()
        assert "Replace a worn gearbox" in labels["goal"].text()
        assert "GBX-4120" in labels["products"].text() and "GBX-3100" in labels["products"].text()
        assert "output torque" in labels["constraints"].text() and "N·m" in labels["constraints"].text()
        assert "datasheet" in labels["documents"].text() and "0.82" in labels["documents"].text()
        assert "Torque rating confirmed" in labels["confidence"].text()
        assert "40 units" in labels["unresolved"].text()
        assert "line restart" in labels["urgency"].text()
        assert "Nordics" in labels["account"].text()
        kinds = [m.author_kind for m in window.session.transcript.messages()]
        assert kinds[:3] == [AuthorKind.BUYER, AuthorKind.AI, AuthorKind.BUYER]
        assert AuthorKind.SYSTEM in kinds  # "a specialist is joining" announcement
        # the constraint "ratio" came from turn 3: clicking its link highlights message 3
        window.card.section_labels["constraints"].linkActivated.emit("turn:3")
        assert window.session.transcript.highlight_seq == 3
        row = window.session.transcript.row_for_seq(3)
        assert window.transcript.visualRect(window.session.transcript.index(row, 0)).isValid()
        # not claimed: composer disabled with a hint
        assert not window.composer.edit.isEnabled()
        assert "Claim" in window.composer.hint.text()

    run(scenario())


def test_claim_with_button_and_shortcut_then_reply_appears_in_thread_and_on_hub(data, open_console, run):
    first = data.create_handoff("First Claim AB", skills=["drives"], priority="urgent")
    second = data.create_handoff("Second Claim AB", skills=["drives"], priority="normal")
    window = open_console(data.base_url, data.token("anna"))

    async def scenario():
        await wait_until(lambda: window.card.handoff is not None, "first handoff shown")
        assert window.session.current_id == first.handoff.id
        assert "Ctrl+Shift+C" in window.claim_button.toolTip()
        window.claim_button.click()
        await wait_until(lambda: window.session.is_mine(), "the claim to land")
        await wait_until(lambda: window.composer.edit.isEnabled(), "composer enabled")
        assert window.queue_panel.proxy.index(0, 0).data() == "Mine"
        await wait_until(
            lambda: any("joined" in b for b in transcript_bodies(window)), "the 'joined' system line"
        )
        # reply with Ctrl+Enter
        window.composer.edit.setFocus()
        QTest.keyClicks(window.composer.edit, "Hello Maja, I can quote 40 units today.")
        QTest.keyClick(window.composer.edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        await wait_until(
            lambda: "Hello Maja, I can quote 40 units today." in transcript_bodies(window),
            "my reply in the thread",
        )
        await wait_until(lambda: window.composer.edit.toPlainText() == "", "composer cleared after send")
        on_hub = data.messages(first.handoff.conversation_id)
        mine = [m for m in on_hub if m.body == "Hello Maja, I can quote 40 units today."]
        assert len(mine) == 1 and mine[0].author_kind == AuthorKind.AGENT
        # the event for my own message arrives too, but the thread shows it once
        await asyncio.sleep(0)  # let queued events run once before counting
        assert transcript_bodies(window).count("Hello Maja, I can quote 40 units today.") == 1

        # select the second one with Down and claim it with the keyboard shortcut
        window.queue_panel.table.setFocus()
        window.activateWindow()
        await wait_until(lambda: window.isActiveWindow(), "window active for shortcuts")
        QTest.keyClick(window.queue_panel.table, Qt.Key.Key_Down)
        await wait_until(
            lambda: window.session.current is not None and window.session.current.id == second.handoff.id,
            "second handoff selected with Down",
        )
        QTest.keyClick(window, Qt.Key.Key_C, CTRL_SHIFT)
        await wait_until(lambda: window.session.is_mine(), "the shortcut claim to land")
        # release with the shortcut puts it back in the queue; resolve closes the first one
        QTest.keyClick(window, Qt.Key.Key_R, CTRL_SHIFT)
        await wait_until(
            lambda: window.session.current.status == HandoffStatus.QUEUED, "released back to the queue"
        )
        assert window.queue_panel.select_id(first.handoff.id)
        await wait_until(lambda: window.session.is_mine(), "first (mine) selected")
        QTest.keyClick(window, Qt.Key.Key_D, CTRL_SHIFT)
        await wait_until(
            lambda: window.session.queue.row_for_id(first.handoff.id) < 0, "resolved leaves the queue"
        )
        # after Resolve the next handoff is shown (the resolved one stays findable in History)
        await wait_until(lambda: window.session.current_id == second.handoff.id, "the next handoff selected")

    run(scenario())


def test_claimed_by_other_leaves_queue_and_buyer_reply_appears_live(data, open_console, run):
    watched = data.create_handoff("Watched AB", skills=["drives"])
    taken = data.create_handoff("Taken By Bob AB", skills=["drives"])
    window = open_console(data.base_url, data.token("anna"))

    async def scenario():
        await wait_until(lambda: window.session.queue.rowCount() == 2, "both in the queue")
        assert window.queue_panel.select_id(watched.handoff.id)
        await wait_until(lambda: window.card.handoff is not None, "watched handoff shown")
        assert data.claim("bob", taken.handoff.id).status_code == 200
        await wait_until(lambda: "Taken By Bob AB" not in companies(window), "bob's claim removes it")
        data.buyer_says(watched.buyer_token, watched.handoff.conversation_id, "Any update on the price?")
        await wait_until(lambda: "Any update on the price?" in transcript_bodies(window), "buyer reply live")

    run(scenario())


def test_claim_race_lost_names_the_owner(data, open_console, run):
    h = data.create_handoff("Race AB", skills=["drives"])
    window = open_console(data.base_url, data.token("anna"))

    async def scenario():
        await wait_until(lambda: window.card.handoff is not None, "handoff shown")
        # bob wins the race: his claim lands before anna's event loop runs again
        assert data.claim("bob", h.handoff.id).status_code == 200
        window.claim_button.click()
        await wait_until(
            lambda: window.banner.isVisible() and "Bob" in window.banner.label.text(), "owner banner"
        )
        assert "already claimed" in window.banner.label.text()
        assert window.banner.level == "warning"
        await wait_until(lambda: "Bob" in window.card.status_chip.text(), "card shows bob holds it")
        assert not window.composer.edit.isEnabled()
        assert "is handling this conversation" in window.composer.hint.text()

    run(scenario())


def test_shortcuts_dialog_filter_focus_and_tooltips(data, open_console, run):
    data.create_handoff("Keys AB", skills=["drives"])
    window = open_console(data.base_url, data.token("anna"))

    async def scenario():
        await wait_until(lambda: window.card.handoff is not None, "handoff shown")
        window.activateWindow()
        await wait_until(lambda: window.isActiveWindow(), "window active")
        QTest.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
        assert window.queue_panel.filter_edit.hasFocus()
        QTest.keyClick(window, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
        assert window.queue_panel.all_button.isChecked()
        window.help_action.trigger()
        dialog = window.shortcuts_dialog
        await wait_until(lambda: dialog is not None and dialog.isVisible(), "shortcuts dialog open")
        assert dialog.isModal()  # open() = window-modal, yet the loop keeps running (no exec())
        texts = [w.text() for w in dialog.findChildren(QLabel)]
        for keys in ("Ctrl+Shift+C", "Ctrl+Shift+R", "Ctrl+Shift+D", "Ctrl+Enter", "Ctrl+F"):
            assert keys in texts
        await wait_until(lambda: window.session.queue.rowCount() == 1, "the loop still runs while it is open")
        dialog.reject()
        for button, keys in (
            (window.claim_button, "Ctrl+Shift+C"),
            (window.release_button, "Ctrl+Shift+R"),
            (window.resolve_button, "Ctrl+Shift+D"),
            (window.composer.send_button, "Ctrl+Enter"),
        ):
            assert keys in button.toolTip()
        assert "Assistant" in [w.text() for w in window.assistant.findChildren(QLabel)]

    run(scenario())
