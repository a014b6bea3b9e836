"""`warmline demo`'s buyer side: the hub serves /demo/shop with the widget and the demo prints it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from warmline.demo import _print_workspace, prepare_workspace
from warmline.hub.embedded import EmbeddedHub

from .conftest import launch_options, require_browser


@pytest.fixture
def demo_hub(tmp_path) -> Iterator[tuple[EmbeddedHub, Any]]:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    with EmbeddedHub(database_url=url) as hub:
        assert hub.base_url is not None
        workspace = asyncio.run(prepare_workspace(hub_url=hub.base_url, database_url=url))
        yield hub, workspace


def test_the_demo_shop_page_chats_with_the_hubs_ai(demo_hub, capsys) -> None:
    hub, workspace = demo_hub
    _print_workspace(workspace)
    assert f"be the buyer: {hub.base_url}/demo/shop" in capsys.readouterr().err
    page_html = httpx.get(f"{hub.base_url}/demo/shop").text
    assert '<script src="/widget.js" data-workspace="wk_' in page_html
    # preparing the workspace again (a restart on the same database) keeps one demo key
    asyncio.run(prepare_workspace(hub_url=hub.base_url, database_url=workspace.database_url))
    assert httpx.get(f"{hub.base_url}/demo/shop").text == page_html

    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(**launch_options())
        try:
            page = browser.new_page()
            page.set_default_timeout(20_000)
            page.goto(f"{hub.base_url}/demo/shop")
            page.get_by_role("button", name="Chat with us").click()
            box = page.get_by_label("Your message")
            box.fill("What is the rated torque of the GX-220?")
            box.press("Enter")
            answer = page.locator(".wl-msg.wl-ai[data-id]").first
            answer.locator(".wl-chip", has_text="GX-220").wait_for()
            assert "220" in answer.inner_text()
        finally:
            browser.close()
