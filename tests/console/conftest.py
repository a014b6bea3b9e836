"""Fixtures for console tests: a qasync loop over pytest-qt's QApplication, a real embedded hub,
and a console window driven inside that loop.

pytest-qt's waitUntil spins Qt but not asyncio, so console tasks would die with "no running
event loop"; instead each GUI test runs its steps in ``loop.run_until_complete(...)`` and
waits on conditions with ``wait_until`` (polling with a deadline).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import pytest
import qasync
import shiboken6

from .hubdata import HubData

DEFAULT_TIMEOUT = 20.0


async def wait_until(condition: Callable[[], Any], what: str, timeout: float = DEFAULT_TIMEOUT) -> Any:
    """Poll a condition while the loop keeps running; fail naming what never happened."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = condition()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for: {what}")
        await asyncio.sleep(0.01)


@pytest.fixture
def qloop(qapp) -> Iterator[qasync.QEventLoop]:
    """A qasync loop on the test QApplication (Qt quits only through our shutdown path)."""
    qapp.setQuitOnLastWindowClosed(False)
    from warmline.console.app import close_qasync_loop, install_asyncgen_hooks

    loop = qasync.QEventLoop(qapp, already_running=False)
    asyncio.set_event_loop(loop)
    install_asyncgen_hooks(loop)
    try:
        yield loop
    finally:
        close_qasync_loop(loop)


@pytest.fixture
def run(qloop) -> Callable[[Coroutine[Any, Any, Any]], Any]:
    """Run a scenario coroutine to completion inside the qasync loop, with an overall deadline."""

    def runner(coro: Coroutine[Any, Any, Any], timeout: float = 90.0) -> Any:
        return qloop.run_until_complete(asyncio.wait_for(coro, timeout))

    return runner


def _start_hub(database_url: str, port: int = 0):
    from warmline.hub.embedded import EmbeddedHub

    hub = EmbeddedHub(database_url=database_url, port=port)
    hub.start()
    return hub


@pytest.fixture
def hub_database_url(sqlite_url) -> str:
    return sqlite_url


@pytest.fixture
def hub(hub_database_url) -> Iterator[Any]:
    """A real hub (uvicorn on loopback, its own thread) on a fresh database."""
    hub = _start_hub(hub_database_url)
    try:
        yield hub
    finally:
        hub.stop()


@pytest.fixture
def data(hub) -> Iterator[HubData]:
    """REST helper with a bot token plus two specialists (anna: drives+quotes; bob: all skills)."""
    bot = hub.create_bot("test-bot")
    anna, anna_token = hub.create_agent("anna", ["drives", "quotes"], display_name="Anna Berg")
    bob, bob_token = hub.create_agent("bob", [], display_name="Bob Ng")
    helper = HubData(hub.base_url, bot, agents={"anna": (anna, anna_token), "bob": (bob, bob_token)})
    try:
        yield helper
    finally:
        helper.close()


@pytest.fixture
def open_console(qloop, qapp, tmp_path) -> Iterator[Callable[[str, str], Any]]:
    """Open a console window signed in with a token; closed through the shutdown path afterwards."""
    from warmline.console.client import HubClient
    from warmline.console.session import Session
    from warmline.console.widgets.main_window import MainWindow

    windows: list[MainWindow] = []

    def opener(base_url: str, token: str) -> MainWindow:
        # The reply outbox goes to the test's tmp dir, never the user's data dir.
        session = Session(HubClient(base_url, token), outbox_dir=tmp_path / "outbox")
        window = MainWindow(session, hub_url=base_url)
        window.show()
        session.start()
        windows.append(window)
        return window

    yield opener
    # The app's shutdown path: close, cancel and await tasks, close the client, then delete the
    # window on this (GUI) thread. (Not qtbot.addWidget: pytest-qt deletes registered widgets
    # before fixtures tear down, which would pull the session out from under aclose().)
    for window in windows:
        window.close()
        qloop.run_until_complete(window.session.aclose())
        assert not window.session.tasks
        shiboken6.delete(window)
