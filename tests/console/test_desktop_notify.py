"""Desktop notifications and the tray, against a real hub: a new handoff for my skills
raises one (and one for skills I lack does not), several group into one, clicking opens
the handoff, a buyer's message and a colleague's @mention notify, and closing the window
hides it to the tray while the event stream keeps running."""

from __future__ import annotations

import asyncio

import pytest

from warmline.console.client import ConnectionState
from warmline.console.desktop.notify import in_quiet_hours
from warmline.console.desktop.settings import Kind, Preferences

from .conftest import wait_until
from .desktop_helpers import desktop_env_fixture, desktops_fixture, start_desktop  # noqa: F401

pytestmark = [pytest.mark.gui, pytest.mark.usefixtures("desktop_env")]


async def _open(data, name: str = "anna"):
    from warmline.console.desktop.signin import Credential

    running = start_desktop(Credential(data.base_url, data.token(name)))
    await wait_until(lambda: running.shells and running.window is not None, "the console window")
    session = running.window.session
    await wait_until(
        lambda: (
            session.loaded
            and session.stream is not None
            and session.stream.state == ConnectionState.CONNECTED
        ),
        "the queue loaded and the event stream connected",
    )
    return running


async def _quit(running) -> int:
    running.shell.quit()
    return await asyncio.wait_for(running.task, 30)


def test_matching_handoff_notifies_and_click_selects_it(data, run):
    async def scenario():
        running = await _open(data)
        notifier = running.shell.notifier
        other = data.create_handoff("Pumps Only GmbH", skills=["pumps"])  # anna: drives + quotes
        await wait_until(lambda: running.window.session.queue.summary(other.handoff.id), "the pumps handoff")
        mine = data.create_handoff("Drive Works AG", skills=["drives"], priority="high")
        await wait_until(lambda: notifier.shown, "a notification")
        await asyncio.sleep(0.3)  # past the grouping window: nothing else may come
        assert len(notifier.shown) == 1
        note = notifier.shown[0]
        assert (note.kind, note.handoff_id, note.count) == (Kind.NEW_HANDOFF, mine.handoff.id, 1)
        assert "Drive Works AG" in note.title
        await wait_until(lambda: running.shell.tray.count >= 1, "the tray badge counting it")
        assert "waiting for your expertise" in running.shell.tray.icon.toolTip()

        running.shell.tray.icon.messageClicked.emit()  # the user clicks the pop-up
        await wait_until(lambda: running.window.session.current_id == mine.handoff.id, "the handoff selected")
        await wait_until(lambda: running.window.card.handoff is not None, "its card shown")
        assert running.window.isVisible()
        assert await _quit(running) == 0

    run(scenario())


def test_several_handoffs_group_into_one_notification(data, run):
    async def scenario():
        running = await _open(data)
        notifier = running.shell.notifier
        notifier._group.setInterval(1500)
        ids = [data.create_handoff(f"Group {i} AG", skills=["drives"]).handoff.id for i in range(3)]
        await wait_until(lambda: notifier.shown, "the grouped notification", timeout=20)
        assert len(notifier.shown) == 1
        note = notifier.shown[0]
        assert note.count == 3 and note.title == "3 new handoffs for your expertise"
        assert note.handoff_id in ids
        assert await _quit(running) == 0

    run(scenario())


def test_buyer_message_and_mention_notify(data, run):
    async def scenario():
        created = data.create_handoff("Mention Me GmbH", skills=["drives"])
        hid, conv = created.handoff.id, created.handoff.conversation_id
        assert data.claim("anna", hid).status_code == 200
        running = await _open(data)
        notifier = running.shell.notifier
        running.window.close()  # to the tray: the window is not in front any more
        await wait_until(lambda: not running.window.isVisible(), "the window hidden")
        data.buyer_says(created.buyer_token, conv, "Any update on the lead time?")
        await wait_until(lambda: any(n.kind == Kind.BUYER_MESSAGE for n in notifier.shown), "buyer notice")
        note = next(n for n in notifier.shown if n.kind == Kind.BUYER_MESSAGE)
        assert note.handoff_id == hid and "lead time" in note.body
        assert notifier.unread == 1
        r = data.http.post(
            f"/v1/conversations/{conv}/messages",
            json={"body": "@anna can you check the ATEX rating?", "internal": True},
            headers={"Authorization": f"Bearer {data.token('bob')}", "Idempotency-Key": "m-1"},
        )
        assert r.status_code == 201, r.text  # a colleague's note in a thread anna holds
        note = await wait_until(
            lambda: next((n for n in notifier.shown if n.kind == Kind.MENTION), None), "mention notice"
        )
        assert note.handoff_id == hid and "ATEX" in note.body and "mentioned you" in note.title
        assert await _quit(running) == 0

    run(scenario())


def test_transfer_to_me_and_claim_time_out_notify(data, run):
    created = data.create_handoff("Transfer Me AG", skills=["drives"])
    hid = created.handoff.id
    assert data.claim("bob", hid).status_code == 200

    async def scenario():
        running = await _open(data)
        notifier = running.shell.notifier
        r = data.http.post(
            f"/v1/handoffs/{hid}/transfer",
            json={"to_agent": data.agent("anna").id, "note": "needs the gearbox expert"},
            headers={"Authorization": f"Bearer {data.token('bob')}"},
        )
        assert r.status_code == 200, r.text
        note = await wait_until(
            lambda: next((n for n in notifier.shown if n.kind == Kind.TRANSFER), None), "transfer notice"
        )
        assert note.handoff_id == hid and "Bob" in note.title and "gearbox expert" in note.body
        running.shell.tray.icon.messageClicked.emit()
        await wait_until(lambda: running.window.session.current_id == hid, "the transferred handoff open")
        assert await _quit(running) == 0

    run(scenario())


@pytest.fixture
def quick_timeout_hub(tmp_path):
    from warmline.hub.embedded import EmbeddedHub
    from warmline.hub.settings import HubSettings

    settings = HubSettings(
        database_url=f"sqlite:///{tmp_path / 'timeout.db'}", reply_timeout_s=4, assignment_sweep_s=0.2
    )
    hub = EmbeddedHub(settings, port=0)
    hub.start()
    yield hub
    hub.stop()


def test_my_claim_about_to_time_out_notifies(quick_timeout_hub, run):
    from .hubdata import HubData

    hub = quick_timeout_hub
    anna, token = hub.create_agent("anna", ["drives"], display_name="Anna Berg")
    helper = HubData(hub.base_url, hub.create_bot("bot"), agents={"anna": (anna, token)})
    try:
        hid = helper.create_handoff("Slow Reply GmbH", skills=["drives"]).handoff.id

        async def scenario():
            running = await _open(helper)
            assert helper.claim("anna", hid).status_code == 200
            note = await wait_until(
                lambda: next((n for n in running.shell.notifier.shown if n.kind == Kind.TIMEOUT), None),
                "the time-out warning",
            )
            assert note.handoff_id == hid and note.body == "Slow Reply GmbH"
            assert "back to the queue" in note.title
            assert await _quit(running) == 0

        run(scenario())
    finally:
        helper.close()


def test_kind_switched_off_raises_nothing(data, run):
    from warmline.console.desktop.settings import DesktopSettings

    prefs = Preferences()
    prefs.notify[Kind.NEW_HANDOFF] = False
    DesktopSettings().save_preferences(prefs)

    async def scenario():
        running = await _open(data)
        h = data.create_handoff("Silent AG", skills=["drives"])
        queue = running.window.session.queue
        await wait_until(lambda: queue.summary(h.handoff.id), "the handoff in the queue")
        await asyncio.sleep(0.4)
        assert running.shell.notifier.shown == []
        assert await _quit(running) == 0

    run(scenario())


def test_closing_the_window_keeps_the_stream_alive_until_quit(data, run):
    async def scenario():
        running = await _open(data)
        window, session = running.window, running.window.session
        window.close()
        await wait_until(lambda: not window.isVisible(), "the window hidden")
        assert not running.task.done()
        assert running.shell.settings.flag("tray_hint_shown")
        h = data.create_handoff("While Hidden AG", skills=["drives"])
        await wait_until(lambda: session.queue.summary(h.handoff.id) is not None, "an event while hidden")
        await wait_until(lambda: running.shell.notifier.shown, "its notification")
        assert session.stream.state == ConnectionState.CONNECTED
        running.shell.tray.open_requested.emit()  # click on the tray icon
        assert window.isVisible()
        window.close()  # second close: no second hint, still running
        await asyncio.sleep(0.05)
        assert not running.task.done()
        running.shell.tray.quit_requested.emit()  # Quit from the tray menu
        assert await asyncio.wait_for(running.task, 30) == 0

    run(scenario())


def test_quiet_hours_wrap_past_midnight():
    from datetime import datetime

    prefs = Preferences(quiet_enabled=True, quiet_start="19:00", quiet_end="07:00")
    assert in_quiet_hours(prefs, datetime(2026, 1, 1, 23, 30))
    assert in_quiet_hours(prefs, datetime(2026, 1, 1, 6, 59))
    assert not in_quiet_hours(prefs, datetime(2026, 1, 1, 12, 0))
    day = Preferences(quiet_enabled=True, quiet_start="12:00", quiet_end="13:00")
    assert in_quiet_hours(day, datetime(2026, 1, 1, 12, 30))
    assert not in_quiet_hours(day, datetime(2026, 1, 1, 13, 0))
    assert not in_quiet_hours(Preferences(quiet_enabled=False), datetime(2026, 1, 1, 23, 0))
