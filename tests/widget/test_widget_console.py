"""End to end on one hub: the real web widget in Chromium and the real desktop console.

The buyer types in the browser, the hub's AI hands off, the console's queue gets the row;
the specialist claims in the console; the buyer writes again and the console's row and
transcript update; the specialist replies from the console's composer and the text appears
in the browser. Chromium runs on a thread of its own (Playwright's sync client), the console
on the test's qasync loop (tests/console/conftest.py), the hub on its thread.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from console.conftest import open_console, qloop, run, wait_until  # noqa: F401 - fixtures

from .conftest import QUOTE_TEXT, WidgetHub, launch_options, open_widget_hub, require_browser

pytestmark = pytest.mark.gui
T = TypeVar("T")


class BrowserThread:
    """Chromium driven from one thread of its own (Playwright objects stay on their thread)."""

    def __init__(self) -> None:
        self.pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="chromium")
        self.pw: Any = None
        self.browser: Any = None

    def start(self) -> None:
        def launch() -> None:
            from playwright.sync_api import sync_playwright

            self.pw = sync_playwright().start()
            self.browser = self.pw.chromium.launch(**launch_options())

        self.pool.submit(launch).result(60)

    async def call(self, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.pool, fn)

    def stop(self) -> None:
        def close() -> None:
            if self.browser is not None:
                self.browser.close()
            if self.pw is not None:
                self.pw.stop()

        self.pool.submit(close).result(30)
        self.pool.shutdown()


@pytest.fixture
def widget_hub(tmp_path) -> Iterator[WidgetHub]:
    require_browser()
    yield from open_widget_hub(f"sqlite:///{tmp_path / 'warmline.db'}")


@pytest.fixture
def chromium() -> Iterator[BrowserThread]:
    require_browser()
    thread = BrowserThread()
    thread.start()
    try:
        yield thread
    finally:
        thread.stop()


def test_buyer_in_chromium_and_specialist_in_the_console(widget_hub, chromium, open_console, run) -> None:  # noqa: F811
    wh: WidgetHub = widget_hub
    window = open_console(wh.url, wh.agent_token)
    page: Any = None

    def open_page() -> Any:
        p = chromium.browser.new_page()
        p.set_default_timeout(20_000)
        p.goto(wh.shop_url())
        p.wait_for_function("window.WarmlineWidget && window.WarmlineWidget.state().ready")
        p.get_by_role("button", name="Chat with us").click()
        return p

    def say(text: str) -> Callable[[], None]:
        def typed() -> None:
            box = page.get_by_label("Your message")
            box.fill(text)
            box.press("Enter")

        return typed

    async def scenario() -> None:
        nonlocal page
        page = await chromium.call(open_page)
        await chromium.call(say(QUOTE_TEXT))
        # the AI hands off: the row appears in the console's queue, live
        queue = window.session.queue
        await wait_until(lambda: queue.rowCount() == 1, "the widget's handoff in the console queue")
        handoff_id = queue.ids()[0]
        window.session.select(handoff_id)
        await wait_until(lambda: window.card.handoff is not None, "the handoff selected")
        await chromium.call(lambda: page.locator(".wl-banner", has_text="A specialist is joining").wait_for())

        window.claim_button.click()
        await wait_until(lambda: window.session.is_mine(), "the claim")
        await wait_until(lambda: window.composer.edit.isEnabled(), "the composer enabled")
        await chromium.call(lambda: page.locator(".wl-banner", has_text="Anna Berg has joined").wait_for())

        # typing, both ways: the buyer types in the page, the console's status bar says so
        await chromium.call(lambda: page.get_by_label("Your message").press_sequentially("Also", delay=30))
        await wait_until(
            lambda: window.statusBar().currentMessage() == "The buyer is typing…",
            "buyer typing in the console",
        )
        # the buyer writes again: the console's row and transcript update
        await chromium.call(say("Also: is there a stainless version for the washdown line?"))

        def row_text() -> str:
            return queue.waiting_text(queue.row_at(queue.row_for_id(handoff_id)))

        await wait_until(
            lambda: any("stainless" in m.body for m in window.session.transcript.messages()),
            "the buyer's message in the console's transcript",
        )
        await wait_until(lambda: row_text().startswith("buyer waiting"), "the row shows the buyer waiting")

        # the specialist answers from the console: the text appears in the browser
        reply = "Yes: the GX-220-SS is the stainless variant; same flange, I'll add it to the quote."
        window.composer.edit.setFocus()
        QTest.keyClicks(window.composer.edit, reply[:5])
        await chromium.call(lambda: page.locator(".wl-typing", has_text="Anna Berg is typing…").wait_for())
        QTest.keyClicks(window.composer.edit, reply[5:])
        QTest.keyClick(window.composer.edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        await chromium.call(lambda: page.locator(".wl-msg.wl-agent", has_text="GX-220-SS").wait_for())
        await wait_until(lambda: row_text() == "answered", "the row shows the buyer answered")
        await chromium.call(lambda: page.close())

    run(scenario(), timeout=120)
