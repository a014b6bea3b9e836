"""Fixtures for the web widget's tests: a real hub with the demo catalog, a shop page on another
origin (a tiny HTTP server on loopback), and one real headless Chromium per module.

Chromium is Debian's ``chromium`` driven by Playwright's Python client (never a downloaded
browser). Without it the browser tests are skipped, loudly; with WARMLINE_REQUIRE_BROWSER=1
(CI sets it) they fail instead.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from .browser import CHROMIUM, launch_options

REQUIRE_BROWSER = os.environ.get("WARMLINE_REQUIRE_BROWSER") == "1"
TIMEOUT_MS = 20_000
QUOTE_TEXT = "I need a quote for 40 units of GX-220 with pricing and lead time"


def browser_problem() -> str | None:
    """Why no browser test can run here (None: they can)."""
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright's Python client is not installed (pip install playwright)"
    return None


def require_browser() -> None:
    problem = browser_problem()
    if problem is None:
        return
    if REQUIRE_BROWSER:
        pytest.fail(f"WARMLINE_REQUIRE_BROWSER=1 but {problem}")
    warnings.warn(f"SKIPPING the web widget's browser tests: {problem}", stacklevel=2)
    pytest.skip(f"SKIPPED LOUDLY: {problem}")


# --- a shop page on its own origin ------------------------------------------------------

SHOP_HTML = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Test shop</title></head>
<body><h1>GX-220 helical gearbox</h1><p>A test product page.</p>
<script src="{hub}/widget.js" data-workspace="{key}" async></script></body></html>"""

BARE_HTML = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Test shop</title></head>
<body><h1>GX-220 helical gearbox</h1><p>A test product page.</p></body></html>"""


class ShopServer:
    """Serves /shop?key=KEY (the widget embedded) and /bare (no widget) on 127.0.0.1."""

    def __init__(self, hub_url: str) -> None:
        hub = hub_url

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path, _, query = self.path.partition("?")
                params = dict(p.partition("=")[::2] for p in query.split("&") if p)
                if path == "/shop":
                    body = SHOP_HTML.format(hub=hub, key=params.get("key", ""))
                elif path == "/bare":
                    body = BARE_HTML
                else:
                    self.send_error(404)
                    return
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def other_origin(self) -> str:
        """The same server under another name: a different origin, not on the allowlist."""
        return f"http://localhost:{self.port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# --- the hub, with a widget key ------------------------------------------------------------


@dataclass
class WidgetHub:
    hub: Any
    url: str
    key: str
    shop: ShopServer
    agent_token: str
    agent_name: str
    http: httpx.Client
    bot_token: str = ""

    def shop_url(self, key: str | None = None, origin: str | None = None) -> str:
        return f"{origin or self.shop.origin}/shop?key={key or self.key}"

    def agent(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.agent_token}"}
        return self.http.request(method, path, headers=headers, **kwargs)

    def bot(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.bot_token}"}
        return self.http.request(method, path, headers=headers, **kwargs)

    def messages(self, conversation_id: str) -> list[dict[str, Any]]:
        r = self.agent("GET", f"/v1/conversations/{conversation_id}")
        r.raise_for_status()
        return r.json()["messages"]

    def add_key(self, *origins: str) -> str:
        return add_widget_key(self.hub, *origins)

    def set_limits(self, per_ip: str, per_key: str) -> None:
        set_widget_limits(self.hub, per_ip, per_key)


def add_widget_key(hub: Any, *origins: str) -> str:
    """A new widget key for these origins, written straight to an EmbeddedHub's database."""
    from warmline.buyer import keys

    async def add() -> str:
        async with hub.db.write() as tx:
            return (await keys.add_key(tx.session, origins=list(origins))).key

    return hub.run(add())


def set_widget_limits(hub: Any, per_ip: str, per_key: str) -> None:
    """Rate limits of the hub's public start route (its in-memory limiters, replaced)."""
    from warmline.buyer.guard import Rate, RateLimiter

    assert hub.app is not None
    hub.app.state.widget_limits = (RateLimiter(Rate.parse(per_ip)), RateLimiter(Rate.parse(per_key)))


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for: {what}")
        time.sleep(0.02)


def open_widget_hub(database_url: str) -> Iterator[WidgetHub]:
    from warmline.catalog.demo import ensure_demo_catalog
    from warmline.hub.embedded import EmbeddedHub

    asyncio.run(ensure_demo_catalog(database_url))
    hub = EmbeddedHub(database_url=database_url)
    base_url = hub.start()
    shop = ShopServer(base_url)
    http = httpx.Client(base_url=base_url, timeout=20)
    try:
        _agent, token = hub.create_agent("anna", ["drives", "quotes", "logistics"], display_name="Anna Berg")
        made = WidgetHub(hub, base_url, "", shop, token, "Anna Berg", http)
        made.key = made.add_key(shop.origin)
        made.bot_token = hub.create_bot("store-bot")
        made.set_limits("1000/60", "1000/60")
        yield made
    finally:
        http.close()
        shop.close()
        hub.stop()


@pytest.fixture(scope="module")
def widget_hub(tmp_path_factory) -> Iterator[WidgetHub]:
    """One hub (SQLite, demo catalog) + shop server for the whole module."""
    require_browser()
    path = tmp_path_factory.mktemp("widget") / "warmline.db"
    yield from open_widget_hub(f"sqlite:///{path}")


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium (skipped loudly without one, see require_browser)."""
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        launched = pw.chromium.launch(**launch_options())
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for the whole module (each test opens its own context)."""
    with chromium() as launched:
        yield launched


@pytest.fixture
def context(browser) -> Iterator[Any]:
    """A fresh browser profile (empty localStorage) for one test."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    ctx.set_default_timeout(TIMEOUT_MS)
    try:
        yield ctx
    finally:
        ctx.close()
