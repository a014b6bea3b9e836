"""Fault tests: the console's connection to a real hub is cut (a loopback TCP proxy between
them drops every connection and refuses new ones) and restored. The console catches up on
what happened meanwhile, keeps replies typed while disconnected in its on-disk outbox,
shows them pending, and sends each exactly once, in order; a reply the hub refuses for
good is shown failed with the reason and can be copied, discarded or retried.

Bounded in time: the console runs with a 0.05-0.3 s backoff, and every wait has a deadline.
"""

from __future__ import annotations

import uuid
from collections import Counter
from urllib.parse import urlparse

import pytest
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest

from warmline.console.client import HubClient
from warmline.console.client.outbox import EntryState, Outbox, outbox_path
from warmline.console.models.transcript_model import PendingRole
from warmline.console.session import Session
from warmline.console.widgets.main_window import MainWindow

from .conftest import wait_until
from .tcpproxy import TcpProxy

pytestmark = pytest.mark.gui
CTRL = Qt.KeyboardModifier.ControlModifier


@pytest.fixture
def proxy(hub):
    target = urlparse(hub.base_url)
    p = TcpProxy(target.hostname, target.port).start()
    try:
        yield p
    finally:
        p.close()


@pytest.fixture
def console(qloop, tmp_path):
    """Open consoles on a private outbox dir with a small backoff; all closed the app's way."""
    windows: list[MainWindow] = []
    closed: set[int] = set()

    def opener(base_url: str, token: str) -> MainWindow:
        session = Session(HubClient(base_url, token), outbox_dir=tmp_path / "outbox", backoff=(0.05, 0.3))
        window = MainWindow(session, hub_url=base_url)
        window.show()
        session.start()
        windows.append(window)
        return window

    async def close(window: MainWindow) -> None:
        window.close()
        await window.session.aclose()
        closed.add(id(window))

    opener.close = close  # type: ignore[attr-defined]
    opener.dir = tmp_path / "outbox"  # type: ignore[attr-defined]
    yield opener
    for window in windows:
        if id(window) not in closed:
            window.close()
            qloop.run_until_complete(window.session.aclose())
        assert not window.session.tasks
        shiboken6.delete(window)


def bodies(window) -> list[str]:
    return [m.body for m in window.session.transcript.messages()]


def pending(window) -> list:
    return window.session.transcript.pending()


def send(window, text: str) -> None:
    window.composer.edit.setPlainText(text)
    QTest.keyClick(window.composer.edit, Qt.Key.Key_Return, CTRL)


def assert_thread_is_whole(window) -> None:
    msgs = window.session.transcript.messages()
    ids = [m.id for m in msgs]
    assert len(ids) == len(set(ids)), Counter(ids).most_common(2)
    assert [m.seq for m in msgs] == list(range(1, len(msgs) + 1))  # in order, no gaps


async def open_and_claim(window, handoff_id: str) -> None:
    await wait_until(lambda: window.card.handoff is not None, "handoff shown")
    assert window.card.handoff.id == handoff_id
    window.claim_button.click()
    await wait_until(lambda: window.session.is_mine(), "claimed")
    await wait_until(lambda: window.composer.edit.isEnabled(), "composer enabled")


async def cut(proxy, window) -> None:
    proxy.cut()
    await wait_until(lambda: "Reconnecting" in window.connection_text, "the status bar says reconnecting")


def test_cut_connection_catches_up_on_buyer_messages_once(data, proxy, console, run):
    h = data.create_handoff("Cut Line AB", skills=["drives"])
    conv = h.handoff.conversation_id
    window = console(proxy.base_url, data.token("anna"))
    session = window.session

    async def scenario():
        await wait_until(lambda: window.card.handoff is not None, "handoff shown")
        await wait_until(lambda: session.stream is not None and session.stream.connects == 1, "stream open")
        data.buyer_says(h.buyer_token, conv, "Before the cut.")
        await wait_until(lambda: "Before the cut." in bodies(window), "live message before the cut")

        await cut(proxy, window)
        await wait_until(lambda: "next try" in window.connection_text, "the next retry time is shown")
        assert "next try at" in window.connection_label.toolTip()
        for i in range(3):  # the buyer keeps writing (straight to the hub) while the console is cut off
            data.buyer_says(h.buyer_token, conv, f"While cut {i}.")
        data.create_handoff("Arrived During Cut AB", skills=["drives"])
        assert not any(b.startswith("While cut") for b in bodies(window))

        proxy.restore()
        await wait_until(lambda: "Connected" in window.connection_text, "connected again")
        await wait_until(
            lambda: all(f"While cut {i}." in bodies(window) for i in range(3)), "caught up on the thread"
        )
        await wait_until(
            lambda: any(
                session.queue.summary(i).buyer_company == "Arrived During Cut AB" for i in session.queue.ids()
            ),
            "caught up on the queue",
        )
        assert session.stream.connects >= 2
        assert_thread_is_whole(window)
        on_hub = [m.id for m in data.messages(conv)]
        assert [m.id for m in session.transcript.messages()] == on_hub  # exactly the hub's thread

    run(scenario(), timeout=60)


def test_replies_typed_while_cut_are_pending_then_sent_once_in_order(data, proxy, console, run):
    h = data.create_handoff("Offline Replies AB", skills=["drives"])
    conv = h.handoff.conversation_id
    window = console(proxy.base_url, data.token("anna"))
    texts = [f"Reply {i} typed offline." for i in range(1, 4)]

    async def scenario():
        await open_and_claim(window, h.handoff.id)
        await cut(proxy, window)
        assert window.composer.edit.isEnabled()  # still usable while disconnected
        # offline is shown where the specialist looks: over the composer and over the queue
        assert "Offline" in window.composer.offline_strip.text() and window.composer.offline_strip.isVisible()
        assert "Offline" in window.queue_panel.offline_strip.text()
        assert window.queue_panel.offline_strip.isVisible()
        for text in texts:
            send(window, text)
            # queued on disk at once: the box clears for the next reply
            assert window.composer.edit.toPlainText() == ""
        assert [e.body for e in pending(window)] == texts
        assert not any(t in bodies(window) for t in texts)
        await wait_until(
            lambda: pending(window)[0].state == EntryState.WAITING, "the first reply waits for the hub"
        )
        assert all(e.state in (EntryState.PENDING, EntryState.WAITING) for e in pending(window))
        assert "3 replies waiting" in window.outbox_label.text()
        # the pending rows are drawn (state line above each bubble)
        rows = [window.session.transcript.row_for_key(e.key) for e in pending(window)]
        assert rows == sorted(rows) and rows[0] == len(window.session.transcript.messages())
        assert not window.transcript.viewport().grab().isNull()
        assert window.transcript.model().index(rows[0], 0).data(PendingRole).body == texts[0]
        files = list(console.dir.glob("*.jsonl"))
        assert len(files) == 1 and all(t in files[0].read_text() for t in texts)  # on disk

        proxy.restore()
        await wait_until(lambda: not pending(window), "the outbox drained")
        await wait_until(lambda: all(t in bodies(window) for t in texts), "sent replies in the thread")
        on_hub = [m.body for m in data.messages(conv)]
        assert [b for b in on_hub if b in texts] == texts  # each once, in the order typed
        assert [b for b in bodies(window) if b in texts] == texts  # and shown once each
        assert_thread_is_whole(window)
        await wait_until(lambda: not window.outbox_label.isVisible(), "the outbox count hidden (answer in)")
        assert not list(console.dir.glob("*.jsonl"))  # sent entries compacted away
        await wait_until(lambda: "Connected" in window.connection_text, "connected")
        assert not window.composer.hint.isVisible()

    run(scenario(), timeout=60)


def test_pending_replies_survive_a_console_restart_and_are_sent_once(data, proxy, console, run):
    h = data.create_handoff("Restart AB", skills=["drives"])
    conv = h.handoff.conversation_id
    texts = ["First, before the restart.", "Second, before the restart."]
    landed = "This one reached the hub just before the crash."
    landed_key = f"console-{uuid.uuid4().hex}"

    async def scenario():
        first = console(proxy.base_url, data.token("anna"))
        await open_and_claim(first, h.handoff.id)
        await cut(proxy, first)
        for text in texts:
            send(first, text)
        assert [e.body for e in pending(first)] == texts
        agent_id = first.session.me.id
        await console.close(first)  # the console quits (or crashes) with replies in its outbox

        # A reply whose POST reached the hub but whose answer was lost in the crash:
        # the hub has it under its key, the outbox still lists it.
        r = data.http.post(
            f"/v1/conversations/{conv}/messages",
            json={"body": landed},
            headers={"Authorization": f"Bearer {data.token('anna')}", "Idempotency-Key": landed_key},
        )
        assert r.status_code == 201, r.text
        box = Outbox(outbox_path(console.dir, proxy.base_url, agent_id))
        assert [e.body for e in box.entries()] == texts
        box.add(key=landed_key, conversation_id=conv, body=landed, agent_id=agent_id)
        box.close()

        second = console(proxy.base_url, data.token("anna"))
        await wait_until(lambda: "Reconnecting" in second.connection_text, "the new console cannot reach it")
        proxy.restore()
        await wait_until(lambda: second.session.outbox is not None, "signed in, outbox reloaded")
        await wait_until(lambda: len(second.session.outbox) == 0, "the reloaded outbox drained")
        on_hub = [m.body for m in data.messages(conv)]
        for text in [*texts, landed]:
            assert on_hub.count(text) == 1, (text, on_hub)
        assert on_hub.index(texts[0]) < on_hub.index(texts[1])
        await wait_until(lambda: second.card.handoff is not None, "handoff shown in the new console")
        await wait_until(lambda: all(t in bodies(second) for t in texts), "shown in the new console")
        assert not pending(second)
        assert [b for b in bodies(second) if b in (*texts, landed)].count(landed) == 1
        assert_thread_is_whole(second)

    run(scenario(), timeout=60)


def test_refused_reply_is_failed_with_reason_then_copy_discard_and_retry(data, proxy, console, run, qapp):
    h = data.create_handoff("Lost Claim AB", skills=["drives"])
    conv = h.handoff.conversation_id
    hid = h.handoff.id
    window = console(proxy.base_url, data.token("anna"))
    keep, drop = "Keep this quote: 40 units, 3 weeks.", "A second thought I will throw away."
    third = "And the datasheet is attached."

    def agent_post(agent: str, action: str) -> None:
        r = data.http.post(
            f"/v1/handoffs/{hid}/{action}", headers={"Authorization": f"Bearer {data.token(agent)}"}
        )
        assert r.status_code == 200, r.text

    def failed() -> list:
        return [e for e in pending(window) if e.state == EntryState.FAILED]

    def click(key: str, action: str) -> None:
        window.transcript.scrollToBottom()
        rect = window.transcript.action_rect(key, action)
        assert rect.isValid() and window.transcript.viewport().rect().contains(rect.center()), rect
        QTest.mouseClick(
            window.transcript.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier(0), rect.center()
        )

    async def scenario():
        await open_and_claim(window, hid)
        await cut(proxy, window)
        send(window, keep)
        send(window, drop)
        send(window, third)
        # meanwhile (straight to the hub) anna's claim goes away and bob takes the handoff
        agent_post("anna", "release")
        agent_post("bob", "claim")
        proxy.restore()
        await wait_until(lambda: len(failed()) == 1, "the first reply refused")
        reason = failed()[0].error
        assert "Bob Ng" in reason, reason
        assert failed()[0].status == 409
        # the later two are held back behind it (never sent out of order), not refused
        await wait_until(lambda: all(e.held for e in pending(window)[1:]), "the later replies held back")
        held = pending(window)[1:]
        assert [e.body for e in held] == [drop, third]
        status = window.outbox_label.text()
        assert "1 not sent" in status and "2 replies waiting" in status, status
        held_tip = (
            window.transcript.model()
            .index(window.session.transcript.row_for_key(held[0].key), 0)
            .data(Qt.ItemDataRole.ToolTipRole)
        )
        assert held_tip.startswith("Held back"), held_tip
        assert (
            window.transcript.model()
            .index(window.session.transcript.row_for_key(failed()[0].key), 0)
            .data(Qt.ItemDataRole.ToolTipRole)
            .startswith("Not sent: ")
        )
        assert not window.transcript.viewport().grab().isNull()
        assert keep not in [m.body for m in data.messages(conv)]

        keep_key, drop_key, _third_key = (e.key for e in pending(window))
        click(keep_key, "copy")
        assert QGuiApplication.clipboard().text() == keep
        window.transcript.trigger("discard", drop_key)  # a held reply can be discarded too
        assert [e.body for e in pending(window)] == [keep, third]
        assert window.session.outbox.get(drop_key) is None

        # bob steps away; anna claims it back in the console and retries the kept reply
        agent_post("bob", "release")
        await wait_until(lambda: window.claim_button.isEnabled(), "claimable again")
        window.claim_button.click()
        await wait_until(lambda: window.session.is_mine(), "anna holds it again")
        click(keep_key, "retry")
        await wait_until(lambda: keep in bodies(window), "the retried reply went out")
        await wait_until(lambda: not pending(window), "what it held back went out after it")
        on_hub = [m.body for m in data.messages(conv)]
        assert on_hub.count(keep) == 1 and on_hub.count(third) == 1 and drop not in on_hub
        assert on_hub.index(keep) < on_hub.index(third)
        await wait_until(lambda: keep in bodies(window), "shown as sent")
        assert bodies(window).count(keep) == 1
        await wait_until(lambda: not window.outbox_label.isVisible(), "the outbox count hidden (answer in)")

    run(scenario(), timeout=60)


def test_reply_whose_answer_is_lost_is_retried_with_its_key_and_exists_once(data, proxy, console, run):
    """The POST reaches the hub, the connection dies before the answer comes back: the retry
    carries the same Idempotency-Key, so the hub answers with the message it already has."""
    h = data.create_handoff("Lost Answer AB", skills=["drives"])
    conv = h.handoff.conversation_id
    window = console(proxy.base_url, data.token("anna"))
    text = "Confirmed: 40 units ship on Monday."

    async def scenario():
        await open_and_claim(window, h.handoff.id)
        proxy.lose_next_answer(f"POST /v1/conversations/{conv}/messages".encode())
        attempts = []
        window.session.sender.on_change = lambda e, f=window.session.sender.on_change: (
            attempts.append((e.key, e.state)),
            f(e),
        )
        send(window, text)
        await wait_until(lambda: proxy.answers_lost == 1, "the answer was lost")
        # the message.created event may retire the pending row first; the outbox empties on the answer
        await wait_until(lambda: len(window.session.outbox) == 0, "the outbox drained")
        assert not pending(window)
        sending = [k for k, state in attempts if state == EntryState.SENDING]
        assert len(sending) == 2 and len(set(sending)) == 1  # two POSTs, one key
        assert [m.body for m in data.messages(conv)].count(text) == 1
        await wait_until(lambda: text in bodies(window), "shown")
        assert bodies(window).count(text) == 1
        assert_thread_is_whole(window)

    run(scenario(), timeout=60)


def test_assistant_command_typed_offline_waits_for_the_hub_then_runs(data, proxy, console, run):
    h = data.create_handoff("Offline Lookup AB", skills=["drives"])
    window = console(proxy.base_url, data.token("anna"))
    panel = window.assistant

    async def scenario():
        await open_and_claim(window, h.handoff.id)
        await cut(proxy, window)
        request = panel.run_command("gearbox")  # a catalog search, typed while cut off
        assert request is not None and panel.command.text() == ""
        key = next(e.key for e in window.session.assist.entries(h.handoff.id) if e.request == request)
        entry = window.session.assist.entry(key)
        await wait_until(lambda: entry.waiting_for_hub, "the lookup waits for the hub")
        await wait_until(lambda: key in panel.cards and panel.settled, "its card")
        assert "Waiting for the hub" in panel.cards[key].status.text()
        assert entry.error is None  # not refused with "All connection attempts failed"
        proxy.restore()
        await wait_until(lambda: entry.job is not None and entry.job.status.finished, "it ran once back")
        assert entry.job.status.value == "done" and not entry.waiting_for_hub
        jobs = data.http.get(
            f"/v1/handoffs/{h.handoff.id}/assist", headers={"Authorization": f"Bearer {data.token('anna')}"}
        ).json()["items"]
        assert len([j for j in jobs if j["kind"] == "search"]) == 1  # sent once, with its key

    run(scenario(), timeout=60)
