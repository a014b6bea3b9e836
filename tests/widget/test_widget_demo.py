"""`warmline demo`'s buyer side: the hub serves /demo/shop with the widget and the demo prints it."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from warmline.demo import _print_workspace, prepare_workspace
from warmline.hub.embedded import EmbeddedHub

from .conftest import chromium


@pytest.fixture
def demo_hub(tmp_path) -> Iterator[tuple[EmbeddedHub, Any]]:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    with EmbeddedHub(database_url=url) as hub:
        assert hub.base_url is not None
        workspace = asyncio.run(prepare_workspace(hub_url=hub.base_url, database_url=url))
        yield hub, workspace


@contextmanager
def shop_page(hub: EmbeddedHub) -> Iterator[Any]:
    """The demo shop page open in a headless Chromium (skipped loudly without one)."""
    with chromium() as browser:
        page = browser.new_page()
        page.set_default_timeout(20_000)
        page.goto(f"{hub.base_url}/demo/shop")
        yield page


def test_the_demo_shop_page_chats_with_the_hubs_ai(demo_hub, capsys) -> None:
    hub, workspace = demo_hub
    _print_workspace(workspace)
    assert f"be the buyer: {hub.base_url}/demo/shop" in capsys.readouterr().err
    page_html = httpx.get(f"{hub.base_url}/demo/shop").text
    assert '<script src="/widget.js" data-workspace="wk_' in page_html
    # preparing the workspace again (a restart on the same database) keeps one demo key
    asyncio.run(prepare_workspace(hub_url=hub.base_url, database_url=workspace.database_url))
    assert httpx.get(f"{hub.base_url}/demo/shop").text == page_html

    with shop_page(hub) as page:
        page.get_by_role("button", name="Chat with us").click()
        box = page.get_by_label("Your message")
        box.fill("What is the rated torque of the GX-220?")
        box.press("Enter")
        answer = page.locator(".wl-msg.wl-ai[data-id]").first
        answer.locator(".wl-chip", has_text="GX-220").wait_for()
        assert "220" in answer.inner_text()


def test_the_demo_leaves_buyers_for_a_person_to_play(demo_hub) -> None:
    """The simulator keeps out of the oldest seeded handoffs; /demo/shop links them, and the
    widget continues such a conversation as its buyer (#warmline-conversation=ID.TOKEN)."""
    from warmline.catalog.service import CatalogService, make_engine
    from warmline.escalation.engine import EscalationEngine
    from warmline.sim.runner import Simulator

    hub, workspace = demo_hub

    async def seed() -> Simulator:
        engine = make_engine(workspace.database_url)
        sim = Simulator(
            hub_url=hub.base_url,
            bot_token=workspace.bot_token,
            engine=EscalationEngine(catalog=CatalogService(engine)),
            left_for_people=3,
        )
        try:
            await sim.seed()
        finally:
            await sim.aclose()
            await engine.dispose()
        return sim

    sim = asyncio.run(seed())
    left = {c.conversation_id for c in sim.for_people}
    assert len(left) == 3 and not left & {c.conversation_id for c in sim.open}
    page_html = httpx.get(f"{hub.base_url}/demo/shop").text
    links = re.findall(r'href="#warmline-conversation=(cnv_\w+)\.([\w-]+)"', page_html)
    assert {cid for cid, _token in links} == left, "the page links exactly the buyers left to people"
    cid = links[0][0]

    with shop_page(hub) as page:
        page.locator(f'a[href^="#warmline-conversation={cid}."]').click()
        page.locator(".wl-panel").wait_for()
        assert "warmline-conversation" not in page.url, "the token leaves the address bar"
        first = httpx.get(
            f"{hub.base_url}/v1/conversations/{cid}",
            headers={"Authorization": f"Bearer {workspace.tokens['sophie']}"},
        ).json()["messages"]
        page.locator(".wl-msg[data-id]", has_text=first[0]["body"][:40]).wait_for()
        page.locator(".wl-banner", has_text="A specialist is joining").wait_for()
        box = page.get_by_label("Your message")
        box.fill("Played by a person: any news on this?")
        box.press("Enter")
        page.locator(".wl-msg.wl-buyer[data-id]", has_text="Played by a person").wait_for()
    after = httpx.get(
        f"{hub.base_url}/v1/conversations/{cid}",
        headers={"Authorization": f"Bearer {workspace.tokens['sophie']}"},
    ).json()["messages"]
    assert [m["body"] for m in after if m["author_kind"] == "buyer"].count(
        "Played by a person: any news on this?"
    ) == 1
