"""Screenshots of the web widget for the README: docs/widget-desktop.png and docs/widget-phone.png.

    .venv/bin/python benchmarks/widget_screenshots.py [--out docs]

Starts an embedded hub with the demo workspace (SQLite in a temporary folder), opens the demo
shop page in Debian's headless Chromium, asks the product AI a question (answer with SKU chip
and sources), asks for a quote (handoff notice), lets the demo specialist Anna claim and reply
through the API, and saves the page at 1280x800 and at 360x740.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from widget.browser import CHROMIUM_ARGS  # the tests' Chromium flags


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs"))
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    from warmline.demo import prepare_workspace
    from warmline.hub.embedded import EmbeddedHub

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'demo.db'}"
        with EmbeddedHub(database_url=url) as hub:
            base = hub.base_url
            assert base is not None
            workspace = asyncio.run(prepare_workspace(hub_url=base, database_url=url))
            anna = {"Authorization": f"Bearer {workspace.tokens['anna']}"}
            with sync_playwright() as pw, httpx.Client(base_url=base, timeout=20) as http:
                browser = pw.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                page.set_default_timeout(20_000)
                page.goto(f"{base}/demo/shop")
                page.get_by_role("button", name="Chat with us").click()

                def say(text: str, wait_for: str) -> None:
                    box = page.get_by_label("Your message")
                    box.fill(text)
                    box.press("Enter")
                    page.locator(wait_for).last.wait_for()

                say("What is the rated torque of the GX-220?", ".wl-msg.wl-ai .wl-chip")
                say("I need a quote for 40 units of GX-220 with pricing and lead time", ".wl-banner")
                cid = page.evaluate("window.WarmlineWidget.state().conversationId")
                items = http.get("/v1/handoffs", headers=anna).json()["items"]
                handoff = next(h for h in items if h["conversation_id"] == cid)
                http.post(f"/v1/handoffs/{handoff['id']}/claim", headers=anna).raise_for_status()
                page.locator(".wl-banner", has_text="has joined").wait_for()
                reply = "Hi, Anna here. 40 × GX-220 can ship in 3 weeks; I'm preparing your quote now."
                http.post(f"/v1/conversations/{cid}/messages", json={"body": reply}, headers=anna)
                page.locator(".wl-msg.wl-agent").wait_for()
                page.wait_for_timeout(300)  # let the panel's entry animation settle
                args.out.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(args.out / "widget-desktop.png"))
                page.set_viewport_size({"width": 360, "height": 740})
                page.wait_for_timeout(300)
                page.screenshot(path=str(args.out / "widget-phone.png"))
                browser.close()
    print(f"saved {args.out / 'widget-desktop.png'} and {args.out / 'widget-phone.png'}")


if __name__ == "__main__":
    main()
