"""The console survives the hub going away: it says so, catches up from the event log, and
applies nothing twice; a reply typed meanwhile waits in the outbox and goes out once, with
its idempotency key. (Cuts of the network path, with a TCP proxy: test_resilience.py.)"""

from __future__ import annotations

from collections import Counter
from urllib.parse import urlparse

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from warmline.console.client.outbox import EntryState
from warmline.hub.embedded import EmbeddedHub

from .conftest import wait_until
from .hubdata import HubData

pytestmark = pytest.mark.gui


def record_events(session) -> list[int]:
    """Wrap the session's event handler to see every event id it applies."""
    applied: list[int] = []
    original = session.apply_event

    def spy(event):
        applied.append(event.id)
        original(event)

    session.apply_event = spy
    return applied


def test_reconnect_catches_up_without_duplicates(hub, data, hub_database_url, open_console, run):
    watched = data.create_handoff("Watched AB", skills=["drives"], priority="urgent")
    gone = data.create_handoff("Gone While Away AB", skills=["drives"])
    window = open_console(data.base_url, data.token("anna"))
    session = window.session
    port = urlparse(hub.base_url).port
    restarted: list[EmbeddedHub] = []

    async def scenario():
        await wait_until(lambda: window.card.handoff is not None, "watched handoff shown")
        assert window.card.handoff.id == watched.handoff.id
        await wait_until(lambda: session.stream is not None and session.stream.connects == 1, "stream open")
        applied = record_events(session)
        stream = session.stream
        stream.on_event = session.apply_event  # the stream holds the handler it was given

        # 1) a dropped connection (network blip): reconnect, replay from the last id, nothing twice
        data.buyer_says(watched.buyer_token, watched.handoff.conversation_id, "Before the blip.")
        await wait_until(lambda: "Before the blip." in bodies(), "live message before the blip")
        await stream.drop_connection()
        await wait_until(lambda: stream.connects == 2, "reconnected after the blip")
        data.buyer_says(watched.buyer_token, watched.handoff.conversation_id, "After the blip.")
        await wait_until(lambda: "After the blip." in bodies(), "live message after the blip")

        # 2) the hub goes down; things happen (through another hub on the same database)
        hub.stop()
        await wait_until(lambda: "Reconnecting" in window.connection_text, "status bar says reconnecting")
        other = EmbeddedHub(database_url=hub_database_url)
        other.start()
        try:
            helper = HubData(other.base_url, data.bot_token, agents=data.agents)
            helper.buyer_says(watched.buyer_token, watched.handoff.conversation_id, "Hello? Anyone there?")
            helper.create_handoff("Arrived While Away AB", skills=["drives"], priority="high")
            assert helper.claim("bob", gone.handoff.id).status_code == 200
            helper.close()
        finally:
            other.stop()
        assert "Arrived While Away AB" not in companies()

        # 3) the hub comes back on the same address: the console catches up by itself
        back = EmbeddedHub(database_url=hub_database_url, port=port)
        restarted.append(back)
        back.start()
        await wait_until(lambda: "Connected" in window.connection_text, "connected again")
        await wait_until(lambda: "Arrived While Away AB" in companies(), "handoff created while away")
        await wait_until(lambda: "Gone While Away AB" not in companies(), "claimed by bob while away")
        await wait_until(lambda: "Hello? Anyone there?" in bodies(), "buyer message sent while away")
        assert stream.connects >= 3

        # nothing applied twice, nothing shown twice
        assert len(applied) == len(set(applied)), Counter(applied).most_common(3)
        assert applied == sorted(applied)
        ids = [m.id for m in session.transcript.messages()]
        assert len(ids) == len(set(ids))
        seqs = [m.seq for m in session.transcript.messages()]
        assert seqs == list(range(1, len(seqs) + 1))  # the full thread, in order, no gaps
        assert len(session.queue.ids()) == len(set(session.queue.ids()))

    def bodies() -> list[str]:
        return [m.body for m in session.transcript.messages()]

    def companies() -> list[str]:
        return [session.queue.summary(i).buyer_company for i in session.queue.ids()]

    try:
        run(scenario())
    finally:
        for h in restarted:
            h.stop()


def test_reply_while_hub_is_down_waits_in_the_outbox_and_is_sent_once_with_its_key(
    hub, data, hub_database_url, open_console, run
):
    """The hub itself stops (not just the network): the reply waits, then goes out once."""
    h = data.create_handoff("Retry AB", skills=["drives"])
    window = open_console(data.base_url, data.token("anna"))
    port = urlparse(hub.base_url).port
    restarted: list[EmbeddedHub] = []
    text = "Quote for 40 units attached."

    async def scenario():
        await wait_until(lambda: window.card.handoff is not None, "handoff shown")
        window.claim_button.click()
        await wait_until(lambda: window.composer.edit.isEnabled(), "claimed, composer enabled")
        keys: list[str] = []
        window.composer.send_requested.connect(lambda _body, key: keys.append(key))
        session = window.session

        hub.stop()
        window.composer.edit.setPlainText(text)
        QTest.keyClick(window.composer.edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        assert window.composer.edit.toPlainText() == ""  # kept in the outbox, not in the box
        [entry] = session.transcript.pending()
        assert entry.body == text and entry.key == keys[0]
        await wait_until(
            lambda: session.transcript.pending()[0].state == EntryState.WAITING, "waiting for the hub"
        )
        attempts = session.sender.attempts

        back = EmbeddedHub(database_url=hub_database_url, port=port)
        restarted.append(back)
        back.start()
        await wait_until(lambda: "Connected" in window.connection_text, "connected again")
        await wait_until(lambda: not session.transcript.pending(), "the outbox drained")
        assert session.sender.attempts > attempts  # tried while down, then again once it was back
        assert len(keys) == 1  # one send, one key, however many attempts
        on_hub = [m for m in data.messages(h.handoff.conversation_id) if m.body == text]
        assert len(on_hub) == 1
        await wait_until(
            lambda: [m.body for m in session.transcript.messages()].count(text) == 1, "shown once"
        )
        assert session.outbox is not None
        # (the event can arrive before the POST's answer, which is what removes the entry)
        await wait_until(lambda: len(session.outbox) == 0, "the sent entry left the outbox")

    try:
        run(scenario())
    finally:
        for x in restarted:
            x.stop()
