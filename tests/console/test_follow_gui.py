"""The transcript follows the newest message across layout changes; scrolled up, a pill says so.

Real hub, real window offscreen: claim (the banner changes the layout), send, a buyer reply,
a packet link jump and window resizes. Also: assistant notes are one line until clicked.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from warmline.console.models.transcript_model import TranscriptModel
from warmline.console.widgets.transcript_view import TranscriptView
from warmline.domain.models import AuthorKind

from .conftest import wait_until
from .factories import message

pytestmark = pytest.mark.gui


def bar(window):
    return window.transcript.verticalScrollBar()


def bodies(window) -> list[str]:
    return [m.body for m in window.session.transcript.messages()]


async def at_bottom(window, what: str) -> None:
    await wait_until(
        lambda: bar(window).maximum() > 0 and bar(window).value() == bar(window).maximum(),
        f"the transcript at its bottom after {what}",
    )
    assert window.transcript.following and not window.transcript.pill.isVisible()


def test_transcript_follows_the_bottom_unless_scrolled_up_then_shows_a_pill(data, open_console, run):
    created = data.create_handoff("Follow Me AB", skills=["drives"])
    conv = created.handoff.conversation_id
    for i in range(14):
        data.buyer_says(created.buyer_token, conv, f"Earlier question {i}: what about the shaft seal?")
    window = open_console(data.base_url, data.token("anna"))
    window.resize(1280, 720)

    async def scenario():
        await wait_until(lambda: window.card.handoff is not None, "the handoff shown")
        await wait_until(lambda: len(bodies(window)) >= 17, "the whole transcript loaded")
        await at_bottom(window, "opening")

        window.claim_button.click()  # the banner appears above: the transcript gets shorter
        await wait_until(lambda: window.session.is_mine(), "the claim")
        await wait_until(lambda: window.banner.isVisible(), "the claim banner")
        await wait_until(lambda: any("joined" in b for b in bodies(window)), "the joined line")
        await at_bottom(window, "the claim")

        window.composer.edit.setFocus()
        QTest.keyClicks(window.composer.edit, "I will check the seal and come back within the hour.")
        QTest.keyClick(window.composer.edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        await wait_until(lambda: "I will check the seal" in " ".join(bodies(window)), "my reply")
        await at_bottom(window, "my reply")

        data.buyer_says(created.buyer_token, conv, "Thanks, also a price for 12 units please.")
        await wait_until(lambda: "price for 12 units" in " ".join(bodies(window)), "the buyer's reply")
        await at_bottom(window, "the buyer's reply")

        window.resize(1440, 880)
        await at_bottom(window, "a resize")
        window.resize(1280, 720)
        await at_bottom(window, "a resize back")

        # a packet link jumps to turn 1: reading it stops following
        window.card.section_labels["goal"].linkActivated.emit("turn:1")
        assert window.session.transcript.highlight_seq == 1
        assert not window.transcript.following
        held = bar(window).value()
        assert held < bar(window).maximum()
        data.buyer_says(created.buyer_token, conv, "Any news on the lead time?")
        await wait_until(lambda: window.transcript.pill.isVisible(), "the new-message pill")
        assert bar(window).value() == held  # not yanked away from what I read
        assert window.transcript.pill.text() == "New message ↓"
        window.transcript.pill.click()
        await at_bottom(window, "the pill")
        data.buyer_says(created.buyer_token, conv, "And delivery to Gothenburg?")
        await wait_until(lambda: "Gothenburg?" in bodies(window)[-1], "another buyer turn")
        await at_bottom(window, "a buyer turn after the pill")  # following again, not pinned

        # scrolled up by hand: the same; scrolled back down: following again
        bar(window).setValue(0)
        assert not window.transcript.following
        data.buyer_says(created.buyer_token, conv, "Hello?")
        await wait_until(lambda: window.transcript.pill.isVisible(), "the pill after scrolling up")
        assert bar(window).value() == 0
        bar(window).setValue(bar(window).maximum())
        assert window.transcript.following and not window.transcript.pill.isVisible()
        window.resize(1300, 700)
        await at_bottom(window, "a resize while following")

    run(scenario())


def test_assistant_notes_are_one_line_until_clicked(qapp, qtbot):
    model = TranscriptModel()
    body = "Spec sheet GX-220\n" + "\n".join(f"rated torque {i}: 220 N·m (datasheet)" for i in range(12))
    model.set_conversation(
        "c1",
        [
            message("c1", 1, "Which gearbox fits?"),
            message(
                "c1", 2, body, AuthorKind.AGENT, internal=True, assist_job_id="job-1", author_name="Anna"
            ),
            message("c1", 3, "Plain internal remark", AuthorKind.AGENT, internal=True, author_name="Anna"),
        ],
    )
    view = TranscriptView(model)
    qtbot.addWidget(view)  # deleted on this thread, never by the cyclic GC on another one
    model.setParent(view)
    view.resize(600, 700)
    view.show()
    QTest.qWaitForWindowExposed(view)
    note = model.index(1, 0)
    plain = model.index(2, 0)
    collapsed = view.visualRect(note).height()
    assert collapsed < view.visualRect(model.index(0, 0)).height() + 12  # one line, like a short turn
    assert view.visualRect(plain).isValid()
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.visualRect(note).center())
    qapp.processEvents()
    expanded = view.visualRect(model.index(1, 0)).height()
    assert expanded > collapsed * 3  # the whole result, on request
    assert model.messages()[1].id in view.expanded
    # a plain internal note is not collapsible
    assert not view.toggle_note(2)
    again = view.visualRect(model.index(1, 0)).center()
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=again)
    qapp.processEvents()
    assert view.visualRect(model.index(1, 0)).height() == collapsed
    view.close()
