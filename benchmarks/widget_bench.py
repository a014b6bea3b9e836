"""The web widget's weight and start-up: file sizes (raw and gzip) and the time from page load
to an interactive chat launcher, next to the same page without the widget.

    .venv/bin/python benchmarks/widget_bench.py [--runs 15]

An embedded hub (SQLite, temporary) serves the widget; a small HTTP server on another origin
serves a product page twice: bare, and with the one-line embed. Debian's headless Chromium
loads each page --runs times with a cold cache (a fresh browser context each time) and again
with a warm one (same context, reload). Figures: the page's own load event (navigation
timing ``loadEventEnd``), and for the widget page the moment the launcher is styled and usable
(``warmline:ready``, performance.now()). Medians in milliseconds.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from widget.browser import CHROMIUM_ARGS  # the tests' Chromium flags

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Shop</title></head>
<body><h1>GX-220 helical gearbox</h1><p>{text}</p>{embed}</body></html>"""
TEXT = "Helical in-line gearbox for conveyor drives. " * 40
BUDGET = 60 * 1024


def serve_pages(pages: dict[str, str]) -> ThreadingHTTPServer:
    """Serve ``pages`` (path -> HTML, read on every request) on 127.0.0.1."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = pages.get(self.path, "").encode()
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


LOAD_JS = "performance.getEntriesByType('navigation')[0].loadEventEnd"
READY_JS = """new Promise(done => {
  const w = window.WarmlineWidget;
  if (w && w.state().ready) return done(w.state().readyAt);
  window.addEventListener('warmline:ready', e => done(e.detail.at), {once: true});
})"""


def measure(browser: Any, url: str, widget: bool, runs: int) -> tuple[list[float], list[float], list[float]]:
    """(cold load, cold ready, warm ready) in ms; ready = load for the bare page."""
    cold_load, cold_ready, warm_ready = [], [], []
    for _ in range(runs):
        ctx = browser.new_context()
        page = ctx.new_page()
        page.goto(url, wait_until="load")
        ready = page.evaluate(READY_JS) if widget else None
        load = page.evaluate(LOAD_JS)
        cold_load.append(load)
        cold_ready.append(ready if widget else load)
        page.reload(wait_until="load")
        warm = page.evaluate(READY_JS) if widget else page.evaluate(LOAD_JS)
        warm_ready.append(warm)
        ctx.close()
    return cold_load, cold_ready, warm_ready


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    from warmline.buyer import keys
    from warmline.buyer.assets import packaged
    from warmline.hub.embedded import EmbeddedHub

    assets = packaged()
    print(f"# widget files ({platform.processor() or platform.machine()}, Python {sys.version.split()[0]})")
    total_raw = total_gz = 0
    for name, (raw, gz) in assets.sizes().items():
        print(f"  {name:<28} {raw:>7} B raw  {gz:>6} B gzip")
        total_raw += raw
        total_gz += gz
    verdict = "met" if total_gz <= BUDGET else "NOT met"
    print(
        f"  {'total JS+CSS':<28} {total_raw:>7} B raw  {total_gz:>6} B gzip  (budget 61440 B gzip: {verdict})"
    )

    with (
        tempfile.TemporaryDirectory() as tmp,
        EmbeddedHub(database_url=f"sqlite:///{Path(tmp) / 'b.db'}") as hub,
    ):
        assert hub.base_url is not None
        pages: dict[str, str] = {}
        server = serve_pages(pages)
        origin = f"http://127.0.0.1:{server.server_address[1]}"

        async def add() -> str:
            async with hub.db.write() as tx:
                return (await keys.add_key(tx.session, origins=[origin])).key

        embed = f'<script src="{hub.base_url}/widget.js" data-workspace="{hub.run(add())}" async></script>'
        pages["/bare"] = PAGE.format(text=TEXT, embed="")
        pages["/widget"] = PAGE.format(text=TEXT, embed=embed)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
            measure(browser, f"{origin}/widget", True, 2)  # warm-up (not counted)
            bare = measure(browser, f"{origin}/bare", False, args.runs)
            widget = measure(browser, f"{origin}/widget", True, args.runs)
            browser.close()
        server.shutdown()

    def med(values: list[float]) -> str:
        return f"{statistics.median(values):7.1f}"

    print(f"# page load -> interactive, median of {args.runs} runs, ms (headless Chromium, loopback)")
    print("  page              load event (cold)  interactive (cold)  interactive (warm cache)")
    print(f"  bare page         {med(bare[0])}            {med(bare[1])}             {med(bare[2])}")
    print(f"  with the widget   {med(widget[0])}            {med(widget[1])}             {med(widget[2])}")
    added = statistics.median(widget[1]) - statistics.median(bare[1])
    print(f"  the widget adds {added:.1f} ms to a cold start (launcher styled and usable)")


if __name__ == "__main__":
    main()
