"""Issue 18 items 2, 5 and 6 against a real hub, offscreen: unread buyer turns in conversations
that are not open, a layout that shows whole text at 1280x720, and states that read right."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtTest import QTest

from warmline.console.models.queue_model import COL_AGE, COL_COMPANY, COL_STATUS, UnreadRole

from .conftest import wait_until

pytestmark = pytest.mark.gui

LONG = "Nordic Conveyor Systems Aktiebolag (Gothenburg plant 2)"


def row_of(window, handoff_id: str):
    panel = window.queue_panel
    return panel.proxy.mapFromSource(panel.model.index(panel.model.row_for_id(handoff_id), 0)).row()


def cell(window, handoff_id: str, col: int, role=Qt.ItemDataRole.DisplayRole):
    panel = window.queue_panel
    return panel.proxy.index(row_of(window, handoff_id), col).data(role)


def test_unread_counts_for_a_held_conversation_that_is_not_open(data, open_console, run):
    a = data.create_handoff("Alpha Drives AB", skills=["drives"], priority="urgent")
    b = data.create_handoff("Beta Pumps Oy", skills=["drives"], priority="normal")
    window = open_console(data.base_url, data.token("anna"))
    s = window.session

    async def scenario():
        await wait_until(lambda: window.card.handoff is not None, "the first handoff shown")
        assert s.current_id == a.handoff.id
        for h in (a, b):  # anna takes both (from another console of hers, say)
            assert data.claim("anna", h.handoff.id).status_code == 200
        await wait_until(lambda: len(s.attention.held()) == 2, "both held conversations tracked")
        await wait_until(lambda: s.attention.waiting_since(b.handoff.conversation_id), "B's waiting clock")
        before = s.attention.unread(b.handoff.conversation_id)
        data.buyer_says(b.buyer_token, b.handoff.conversation_id, "Any update on the pump seals?")
        conv_b = b.handoff.conversation_id
        await wait_until(lambda: s.attention.unread(conv_b) == before + 1, "B counts the new turn")
        n = s.attention.unread(conv_b)
        assert s.attention.unread(a.handoff.conversation_id) == 0  # A is open: read
        # on the row: bold, a red "n new" chip, how long the buyer waits; in the window title
        assert cell(window, b.handoff.id, COL_STATUS) == f"{n} new"
        assert cell(window, b.handoff.id, 0, UnreadRole) == n
        assert cell(window, b.handoff.id, COL_COMPANY, Qt.ItemDataRole.FontRole).bold()
        assert cell(window, b.handoff.id, COL_AGE).startswith("buyer waiting ")
        assert cell(window, a.handoff.id, COL_COMPANY, Qt.ItemDataRole.FontRole) is None
        assert window.windowTitle() == f"({n}) Warmline Console"
        # opening B reads it; a buyer turn in A (no longer open) is counted there instead
        assert window.queue_panel.select_id(b.handoff.id)
        await wait_until(lambda: s.attention.unread(conv_b) == 0, "B read once opened")
        assert window.windowTitle() == "Warmline Console"
        data.buyer_says(a.buyer_token, a.handoff.conversation_id, "Hello again from Alpha.")
        await wait_until(lambda: s.attention.unread(a.handoff.conversation_id) == 1, "A counts it")
        assert window.windowTitle() == "(1) Warmline Console"
        # my reply in A (sent from elsewhere) answers it: the buyer no longer waits there
        r = data.http.post(
            f"/v1/conversations/{a.handoff.conversation_id}/messages",
            json={"body": "On it."},
            headers={"Authorization": f"Bearer {data.token('anna')}"},
        )
        assert r.status_code == 201, r.text
        await wait_until(lambda: s.attention.waiting_since(a.handoff.conversation_id) is None, "A answered")
        assert cell(window, a.handoff.id, COL_AGE) == "answered"
        assert window.windowTitle() == "Warmline Console"

    run(scenario())


def whole(label_text: str, width: int, font) -> bool:
    return QFontMetrics(font).horizontalAdvance(label_text) <= width


def test_nothing_is_cut_off_at_1280_and_panes_stay_put_across_handoffs(data, open_console, run):
    first = data.create_handoff(LONG, skills=["drives"], priority="urgent")
    data.create_handoff("Kraft AB", skills=["drives", "quotes"], priority="high")
    data.create_handoff("Oy Pumppu", skills=["drives"], priority="low")
    window = open_console(data.base_url, data.token("anna"))
    window.resize(1280, 720)

    async def scenario():
        await wait_until(lambda: window.card.handoff is not None, "a handoff shown")
        await wait_until(lambda: window.queue_panel.proxy.rowCount() == 3, "three rows")
        table = window.queue_panel.table
        table.fit_columns()
        header = table.horizontalHeader()
        model = table.model()
        for col in range(model.columnCount()):
            if table.isColumnHidden(col):
                continue
            label = model.headerData(col, Qt.Orientation.Horizontal)
            assert whole(label, header.sectionSize(col) - 16, header.font()), f"header {label!r} cut"
        # the status column takes no room while I hold nothing
        assert table.isColumnHidden(COL_STATUS)
        # pills (priority, reason) and waiting fit whole; company elides only what it must, with a tooltip
        for r in range(model.rowCount()):
            for col in (1, 3, COL_AGE):
                if table.isColumnHidden(col):
                    continue
                text = model.index(r, col).data()
                assert table.columnWidth(col) >= table.needed_width(col, [r]) - 1, (col, text)
        assert table.columnWidth(COL_COMPANY) >= 100
        assert LONG in model.index(row_of(window, first.handoff.id), COL_COMPANY).data(
            Qt.ItemDataRole.ToolTipRole
        )
        assert table.horizontalScrollBar().maximum() == 0 or not table.horizontalScrollBar().isVisible()
        # buttons whole
        for button in (window.claim_button, window.release_button, window.resolve_button):
            if button.isVisible():
                assert button.width() >= button.sizeHint().width() - 2, button.text()
        # the card's chips are inside the card (they wrap instead of being clipped)
        body = window.card.widget()
        chip = window.card.status_chip
        assert chip.text() == "Waiting in queue"
        right = chip.mapTo(body, chip.rect().topRight()).x()
        assert right <= window.card.viewport().width(), "status chip clipped"
        # the title elides a long company name instead of widening the pane
        sizes = window.main_split.sizes()
        for hid in window.queue_panel.visible_ids():
            assert window.queue_panel.select_id(hid)
            await wait_until(lambda hid=hid: window.card.handoff and window.card.handoff.id == hid, hid)
            assert window.main_split.sizes() == sizes
        assert window.handoff_title.toolTip() in ("", LONG)

    run(scenario())


def test_states_read_right(data, open_console, run):
    a = data.create_handoff("Resolve Me AB", skills=["drives"], priority="urgent")
    b = data.create_handoff("Next In Line AB", skills=["drives"], priority="high")
    data.create_handoff("Last One AB", skills=["drives"], priority="low")
    window = open_console(data.base_url, data.token("anna"))

    async def scenario():
        await wait_until(lambda: window.card.handoff is not None, "first handoff shown")
        assert window.session.current_id == a.handoff.id
        # disabled buttons look disabled: Resolve (not mine) is drawn unlike an enabled one
        assert not window.resolve_button.isEnabled() and window.claim_button.isEnabled()
        off = window.resolve_button.grab().toImage()
        on = window.claim_button.grab().toImage()
        centre = off.rect().center()
        assert off.pixelColor(centre) != on.pixelColor(on.rect().center())
        assert off.pixelColor(2, centre.y()).lightness() > 200  # light, washed-out face
        window.claim_button.click()
        await wait_until(lambda: window.session.is_mine(), "claimed")
        await wait_until(lambda: "Claimed: Resolve Me AB" in window.banner.label.text(), "claim notice")
        # switching handoffs: the notice about the other company does not stay above this one
        assert window.queue_panel.select_id(b.handoff.id)
        await wait_until(lambda: window.card.handoff and window.card.handoff.id == b.handoff.id, "B shown")
        assert not window.banner.isVisible()
        assert window.queue_panel.select_id(a.handoff.id)
        await wait_until(
            lambda: (
                window.session.current is not None
                and window.session.current.id == a.handoff.id
                and window.session.is_mine()
            ),
            "A shown again, mine",
        )
        assert window.resolve_button.isEnabled()
        window.resolve_button.click()
        # after Resolve the next handoff is selected
        await wait_until(lambda: window.session.current_id == b.handoff.id, "the next handoff selected")
        await wait_until(lambda: window.card.handoff and window.card.handoff.id == b.handoff.id, "B card")

    run(scenario())


def test_packet_follows_the_buyer_and_the_row_re_sorts(data, open_console, run):
    first = data.create_handoff("Calm First AB", skills=["drives"], priority="normal")
    later = data.create_handoff(
        "Urgent Later AB",
        skills=["drives"],
        priority="low",
        summary="I'm connecting you with a specialist who can confirm the price for you.",
    )
    window = open_console(data.base_url, data.token("anna"))
    s = window.session

    async def scenario():
        await wait_until(lambda: s.queue.rowCount() == 2, "both queued")
        assert s.queue.ids() == [first.handoff.id, later.handoff.id]
        # "why" speaks to the specialist; the AI's words to the buyer are quoted; signals in words
        assert window.queue_panel.select_id(later.handoff.id)
        await wait_until(lambda: window.card.handoff and window.card.handoff.id == later.handoff.id, "shown")
        why = window.card.section_labels["why"].text()
        assert "The buyer needs live account data" in why
        assert "The AI told the buyer: “I&#x27;m connecting you" in why or "The AI told the buyer" in why
        assert "asked for a price" in why and "pricing_request" not in why
        # the buyer adds urgency and quantities after the handoff
        said = data.buyer_says(
            later.buyer_token,
            later.handoff.conversation_id,
            "Urgent: our line is down, we need 40 units by Friday and it must be IP65.",
        )
        await wait_until(lambda: s.queue.ids()[0] == later.handoff.id, "the row re-sorted to the top", 30)
        rank = s.queue.summary(later.handoff.id).priority.rank
        assert rank < s.queue.summary(first.handoff.id).priority.rank
        # the open card shows the new facts with their turn links
        link = f"turn:{said.seq}"
        await wait_until(lambda: link in window.card.section_labels["urgency"].text(), "new urgency shown")
        assert link in window.card.section_labels["constraints"].text()  # IP65, from that turn
        assert "IP65" in window.card.section_labels["constraints"].text()

    run(scenario())


def test_composer_grows_to_half_the_pane_and_its_grip_resizes_it(data, open_console, run):
    h = data.create_handoff("Long Reply AB", skills=["drives"])
    window = open_console(data.base_url, data.token("anna"))
    window.resize(1280, 720)

    async def scenario():
        await wait_until(lambda: window.card.handoff is not None, "shown")
        window.claim_button.click()
        await wait_until(lambda: window.composer.edit.isEnabled(), "claimed")
        edit = window.composer.edit
        pane = window.composer.parentWidget()
        start = edit.height()
        window.insert_into_reply("\n".join(f"Line {i} of a long answer." for i in range(22)))
        await wait_until(lambda: edit.height() > start, "grown with the text")
        assert edit.height() <= pane.height() // 2
        edit.clear()
        await wait_until(lambda: edit.height() == start, "back to three lines when cleared")
        grip = window.composer.grip
        centre = grip.rect().center()
        QTest.mousePress(grip, Qt.MouseButton.LeftButton, Qt.KeyboardModifier(0), centre)
        QTest.mouseMove(grip, centre - QPoint(0, 80))
        QTest.mouseRelease(grip, Qt.MouseButton.LeftButton, Qt.KeyboardModifier(0), centre - QPoint(0, 80))
        assert start < edit.height() <= window.composer.max_edit_height()  # taller, up to half the pane
        QTest.mousePress(grip, Qt.MouseButton.LeftButton, Qt.KeyboardModifier(0), centre)
        QTest.mouseMove(grip, centre + QPoint(0, 300))
        QTest.mouseRelease(grip, Qt.MouseButton.LeftButton, Qt.KeyboardModifier(0), centre + QPoint(0, 300))
        assert edit.height() == start  # dragged down: never below three lines
        assert h.handoff.id == window.session.current_id

    run(scenario())
