"""The widget's hub side over real HTTP, on SQLite and PostgreSQL: keys and origins, CORS,
rate limits, the buyer token's reach, typing, the files' caching, and `warmline widget`."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from warmline.buyer import keys
from warmline.buyer.assets import packaged
from warmline.buyer.tables import WidgetConversationRow
from warmline.cli import main
from warmline.hub.embedded import EmbeddedHub
from warmline.hub.store.tables import EventRow

from .conftest import add_widget_key, set_widget_limits

SHOP = "https://shop.example"
EVIL = "https://evil.example"
SIZE_BUDGET = 60 * 1024  # gzipped JS + CSS


class Hub:
    def __init__(self, hub: EmbeddedHub) -> None:
        self.hub = hub
        assert hub.base_url is not None and hub.app is not None
        self.http = httpx.Client(base_url=hub.base_url, timeout=20)
        _agent, self.agent_token = hub.create_agent("anna", ["all"], display_name="Anna Berg")
        self.bot_token = hub.create_bot("bot")
        self.key = self.add_key(SHOP)

    def add_key(self, *origins: str) -> str:
        return add_widget_key(self.hub, *origins)

    def limits(self, per_ip: str, per_key: str) -> None:
        set_widget_limits(self.hub, per_ip, per_key)

    def start(self, key: str | None = None, origin: str | None = SHOP) -> httpx.Response:
        headers = {"Origin": origin} if origin else {}
        return self.http.post("/v1/widget/conversations", json={"key": key or self.key}, headers=headers)

    def buyer(self, token: str, origin: str | None = SHOP) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {token}"}
        if origin:
            headers["Origin"] = origin
        return headers

    def count_events(self, kind: str, conversation_id: str) -> int:
        async def count() -> int:
            async with self.hub.db.read() as session:
                stmt = select(func.count()).where(
                    EventRow.type == kind, EventRow.conversation_id == conversation_id
                )
                return int(await session.scalar(stmt) or 0)

        return self.hub.run(count())


@pytest.fixture
def wh(database_url: str) -> Iterator[Hub]:
    with EmbeddedHub(database_url=database_url) as hub:
        made = Hub(hub)
        made.limits("1000/60", "1000/60")
        try:
            yield made
        finally:
            made.http.close()


def test_a_conversation_needs_a_known_key_and_one_of_its_origins(wh: Hub) -> None:
    r = wh.start(key="wk_nope")
    assert r.status_code == 403 and r.json()["detail"]["code"] == "unknown_widget_key"
    r = wh.start(origin=None)
    assert r.status_code == 403 and r.json()["detail"]["code"] == "origin_required"
    r = wh.start(origin=EVIL)
    assert r.status_code == 403
    assert r.json()["detail"] == {
        "code": "origin_not_allowed",
        "message": "this chat is not enabled on https://evil.example",
        "owner": None,
    }
    assert r.headers["access-control-allow-origin"] == EVIL, "the page may read why it was refused"
    r = wh.start(origin="https://shop.example.evil.example")
    assert r.status_code == 403, "no prefix matching"
    r = wh.start(key="x" * 65)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "key"]

    r = wh.start()
    assert r.status_code == 201, r.text
    started = r.json()
    assert r.headers["access-control-allow-origin"] == SHOP
    conversation = wh.http.get(
        f"/v1/conversations/{started['conversation_id']}", headers=wh.buyer(started["buyer_token"])
    ).json()
    assert conversation["ai_assistant"] is True, "the hub's product AI answers widget chats"
    assert conversation["subject"] == "Web chat on shop.example"
    r = wh.http.post(
        "/v1/widget/conversations",
        json={"key": wh.key, "page": "https://shop.example/p/gx-220/?email=a@b.example#x"},
        headers={"Origin": SHOP},
    )
    subject = wh.http.get(
        f"/v1/conversations/{r.json()['conversation_id']}", headers=wh.buyer(r.json()["buyer_token"])
    ).json()["subject"]
    assert subject == "Web chat on shop.example/p/gx-220", "the page's path, never its query"
    assert started["last_event_id"] >= 1

    async def recorded() -> Any:
        async with wh.hub.db.read() as session:
            return await session.get(WidgetConversationRow, started["conversation_id"])

    row = wh.hub.run(recorded())
    assert (row.widget_key, row.origin) == (wh.key, SHOP)


def test_cors_is_answered_for_allowed_origins_on_the_buyer_routes_only(wh: Hub) -> None:
    started = wh.start().json()
    cid, token = started["conversation_id"], started["buyer_token"]
    preflight = {"Origin": SHOP, "Access-Control-Request-Method": "POST"}
    r = wh.http.options(f"/v1/conversations/{cid}/messages", headers=preflight)
    assert r.status_code == 204
    assert r.headers["access-control-allow-origin"] == SHOP
    for name in ("Authorization", "Idempotency-Key", "Last-Event-ID", "Content-Type"):
        assert name in r.headers["access-control-allow-headers"]
    r = wh.http.options(f"/v1/conversations/{cid}/messages", headers={**preflight, "Origin": EVIL})
    assert r.status_code == 403 and "access-control-allow-origin" not in r.headers
    r = wh.http.options("/v1/events", headers={**preflight, "Access-Control-Request-Private-Network": "true"})
    assert r.headers["access-control-allow-private-network"] == "true"

    # the fast message route and the event stream get the headers too
    r = wh.http.post(f"/v1/conversations/{cid}/messages", json={"body": "hi"}, headers=wh.buyer(token))
    assert r.status_code == 201 and r.headers["access-control-allow-origin"] == SHOP
    assert r.headers["access-control-expose-headers"] == "Retry-After"
    with wh.http.stream("GET", "/v1/events", headers=wh.buyer(token)) as stream:
        assert stream.headers["access-control-allow-origin"] == SHOP
    r = wh.http.get(f"/v1/conversations/{cid}", headers=wh.buyer(token, origin=EVIL))
    assert r.status_code == 200 and "access-control-allow-origin" not in r.headers
    r = wh.http.get(f"/v1/conversations/{cid}", headers=wh.buyer(token, origin=None))
    assert "access-control-allow-origin" not in r.headers, "no Origin, no CORS"
    r = wh.http.get("/v1/handoffs", headers={"Authorization": f"Bearer {wh.agent_token}", "Origin": SHOP})
    assert r.status_code == 200 and "access-control-allow-origin" not in r.headers, "not a buyer route"


def test_new_conversations_are_rate_limited_per_ip_and_per_key(wh: Hub) -> None:
    wh.limits("3/60", "1000/60")
    assert [wh.start().status_code for _ in range(3)] == [201, 201, 201]
    r = wh.start()
    assert r.status_code == 429
    assert r.json()["detail"]["code"] == "rate_limited"
    wait = int(r.headers["retry-after"])
    assert 1 <= wait <= 60 and f"try again in {wait} s" in r.json()["detail"]["message"]
    assert r.headers["access-control-allow-origin"] == SHOP, "the page can read Retry-After"
    assert wh.start(origin=EVIL).status_code == 403, "refusals are decided before the limit"

    wh.limits("1000/60", "2/60")
    other = wh.add_key(SHOP)
    assert [wh.start(key=other).status_code for _ in range(3)] == [201, 201, 429]
    assert wh.start().status_code == 201, "another key has its own budget"


def test_a_buyer_token_reaches_its_own_conversation_only(wh: Hub) -> None:
    a = wh.start().json()
    b = wh.start().json()
    mine = wh.buyer(a["buyer_token"])
    assert wh.http.get(f"/v1/conversations/{b['conversation_id']}", headers=mine).status_code == 403
    r = wh.http.post(f"/v1/conversations/{b['conversation_id']}/messages", json={"body": "x"}, headers=mine)
    assert r.status_code == 403
    assert (
        wh.http.post(f"/v1/conversations/{b['conversation_id']}/typing", json={}, headers=mine).status_code
        == 403
    )
    r = wh.http.get("/v1/widget/state", headers={"Authorization": f"Bearer {wh.agent_token}"})
    assert r.status_code == 403
    r = wh.http.get(
        "/v1/widget/documents", params={"sku": "GX-220", "title": "GX-220 datasheet"}, headers=mine
    )
    assert r.status_code == 404, "only documents the AI cited in this conversation"

    state = wh.http.get("/v1/widget/state", headers=mine).json()
    assert state["conversation_id"] == a["conversation_id"] and state["handoff"] is None

    # the stream of A carries A's messages and typing, never B's, never internal notes
    bot = {"Authorization": f"Bearer {wh.bot_token}"}
    note = {"body": "internal: do not show", "internal": True}
    assert (
        wh.http.post(f"/v1/conversations/{a['conversation_id']}/messages", json=note, headers=bot).status_code
        == 201
    )
    wh.http.post(f"/v1/conversations/{b['conversation_id']}/messages", json={"body": "to B"}, headers=bot)
    wh.http.post(f"/v1/conversations/{a['conversation_id']}/messages", json={"body": "to A"}, headers=bot)
    assert (
        wh.http.post(f"/v1/conversations/{a['conversation_id']}/typing", json={}, headers=mine).status_code
        == 204
    )
    seen: list[tuple[str, Any]] = []
    headers = {**mine, "Last-Event-ID": str(a["last_event_id"])}
    with wh.http.stream("GET", "/v1/events", headers=headers) as stream:
        for line in stream.iter_lines():
            if line.startswith("data:"):
                event = json.loads(line[5:])
                assert event["conversation_id"] == a["conversation_id"]
                seen.append((event["type"], event["data"]))
                if event["type"] == "conversation.typing":
                    break
    bodies = [d["message"]["body"] for kind, d in seen if kind == "message.created"]
    assert "to A" in bodies and "to B" not in bodies and "internal: do not show" not in bodies
    assert seen[-1] == ("conversation.typing", {"author_kind": "buyer", "name": "buyer"})


def test_typing_needs_the_claim_and_is_thinned_to_one_a_second(wh: Hub) -> None:
    started = wh.start().json()
    cid = started["conversation_id"]
    agent = {"Authorization": f"Bearer {wh.agent_token}"}
    r = wh.http.post(f"/v1/conversations/{cid}/typing", json={}, headers=agent)
    assert r.status_code == 409 and r.json()["detail"]["code"] == "not_claimed"
    assert wh.http.post("/v1/conversations/cnv_nope/typing", json={}, headers=agent).status_code == 404
    r = wh.http.post(
        f"/v1/conversations/{cid}/typing", json={"x": 1}, headers=wh.buyer(started["buyer_token"])
    )
    assert r.status_code == 422
    for _ in range(5):
        r = wh.http.post(f"/v1/conversations/{cid}/typing", json={}, headers=wh.buyer(started["buyer_token"]))
        assert r.status_code == 204
    assert wh.count_events("conversation.typing", cid) == 1


def test_the_files_are_versioned_cached_and_small(wh: Hub) -> None:
    r = wh.http.get("/widget.js", headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")
    assert r.headers["cache-control"] == "public, max-age=300"
    names = re.findall(r'"(\w+\.[0-9a-f]{10}\.(?:js|css))"', r.text)
    assert sorted(names) == sorted(packaged().manifest.values()) and len(names) == 3
    total = len(gzip.compress(r.content))
    for name in names:
        f = wh.http.get(f"/widget/{name}", headers={"Accept-Encoding": "gzip"})
        assert f.status_code == 200
        assert f.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert f.headers["content-encoding"] == "gzip"
        again = wh.http.get(f"/widget/{name}", headers={"If-None-Match": f.headers["etag"]})
        assert again.status_code == 304 and again.content == b""
        total += int(f.headers["content-length"])
    assert total <= SIZE_BUDGET, f"widget is {total} bytes gzipped"
    assert wh.http.get("/widget/chat.0000000000.js").status_code == 404
    assert wh.http.get("/demo/shop").status_code == 404, "no demo page without the demo key"


def test_origins_are_normalised_or_refused() -> None:
    assert keys.normalise_origin("HTTPS://Shop.Example:443/") == "https://shop.example"
    assert keys.normalise_origin("http://127.0.0.1:8080") == "http://127.0.0.1:8080"
    for bad in (
        "shop.example",
        "ftp://shop.example",
        "https://shop.example/page",
        "https://",
        "https://a:99999",
    ):
        with pytest.raises(keys.OriginError):
            keys.normalise_origin(bad)


def test_warmline_widget_add_list_remove(sqlite_url: str) -> None:
    runner = CliRunner()
    db = ["--database-url", sqlite_url]
    r = runner.invoke(main, ["widget", "add", "--origin", "shop.example", *db])
    assert r.exit_code == 2 and "an origin starts with https://" in r.output
    r = runner.invoke(
        main, ["widget", "add", "--origin", "https://Shop.Example", "--origin", "http://127.0.0.1:9", *db]
    )
    assert r.exit_code == 0, r.output
    key = r.stdout.strip().splitlines()[-1]
    assert key.startswith("wk_") and f'data-workspace="{key}"' in r.stderr
    r = runner.invoke(main, ["widget", "list", *db])
    assert r.stdout.splitlines() == [f"{key}\t\thttp://127.0.0.1:9,https://shop.example"]
    assert runner.invoke(main, ["widget", "remove", key, *db]).exit_code == 0
    r = runner.invoke(main, ["widget", "remove", key, *db])
    assert r.exit_code == 1 and "no widget key" in r.output
    assert runner.invoke(main, ["widget", "list", *db]).stdout == ""
