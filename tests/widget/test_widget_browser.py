"""The web widget in a real headless Chromium against a real hub: the buyer's whole path.

A shop page on its own origin embeds ``widget.js``; the buyer types, the hub's product AI
answers (SKU chips, source links), escalates (the reason in plain words), a specialist claims
and replies through the real API, and the page shows it all live. Plus offline/online,
reloads and second tabs, refusals (origin, rate limit), keyboard use and small screens.
"""

from __future__ import annotations

from typing import Any

import httpx

from .conftest import WidgetHub, wait_for

QUESTION = "What is the rated torque of the GX-220?"
QUOTE = "I need a quote for 40 units of GX-220 with pricing and lead time"


def open_chat(context: Any, url: str) -> Any:
    page = context.new_page()
    page.goto(url)
    page.wait_for_function("window.WarmlineWidget && window.WarmlineWidget.state().ready")
    if page.locator(".wl-panel").is_hidden():
        page.get_by_role("button", name="Chat with us").click()
    return page


def say(page: Any, text: str) -> None:
    box = page.get_by_label("Your message")
    box.fill(text)
    box.press("Enter")


def shadow_html(page: Any) -> str:
    return page.evaluate("document.getElementById('warmline-widget').shadowRoot.innerHTML")


def conversation_id(page: Any) -> str:
    return wait_for(lambda: page.evaluate("window.WarmlineWidget.state().conversationId"), "a conversation")


def bodies(wh: WidgetHub, cid: str, kind: str = "buyer") -> list[str]:
    return [m["body"] for m in wh.messages(cid) if m["author_kind"] == kind]


def claim(wh: WidgetHub, cid: str) -> str:
    items = wait_for(
        lambda: [h for h in wh.agent("GET", "/v1/handoffs").json()["items"] if h["conversation_id"] == cid],
        "the handoff in the queue",
    )
    r = wh.agent("POST", f"/v1/handoffs/{items[0]['id']}/claim")
    assert r.status_code == 200, r.text
    return items[0]["id"]


def test_ai_answers_escalates_and_the_specialist_joins_live(widget_hub: WidgetHub, context: Any) -> None:
    wh = widget_hub
    page = open_chat(context, wh.shop_url())
    say(page, QUESTION)
    answer = page.locator(".wl-msg.wl-ai[data-id]").first
    answer.wait_for()
    assert "220" in answer.inner_text()
    chip = answer.locator(".wl-chip", has_text="GX-220")
    chip.wait_for()
    # a cited document opens inside the panel (only documents the AI cited are served)
    source = answer.locator(".wl-source", has_text="GX-220 datasheet")
    source.click()
    page.locator(".wl-doc-text", has_text="Technical data").wait_for()
    page.keyboard.press("Escape")  # closes the document, not the chat
    assert page.locator(".wl-doc").is_hidden() and page.locator(".wl-panel").is_visible()

    say(page, QUOTE)
    banner = page.locator(".wl-banner")
    banner.get_by_text("A specialist is joining: you do not need to repeat anything.").wait_for()
    assert "Why: An order of 40 pcs needs a specialist to confirm supply and pricing." in banner.inner_text()

    cid = conversation_id(page)
    claim(wh, cid)
    banner.get_by_text("Anna Berg has joined").wait_for()
    assert "Expertise: Drives, Quotes, Logistics" in banner.inner_text()

    # typing, specialist -> buyer
    assert wh.agent("POST", f"/v1/conversations/{cid}/typing", json={}).status_code == 204
    page.locator(".wl-typing", has_text="Anna Berg is typing…").wait_for()

    # an internal note, then a reply: the reply shows, the note never reaches the page
    note = "INTERNAL: margin on this account is thin, check with finance"
    r = wh.agent("POST", f"/v1/conversations/{cid}/messages", json={"body": note, "internal": True})
    assert r.status_code == 201, r.text
    reply = "Hi, Anna here: 40 × GX-220 ship in 3 weeks; I am preparing the quote now."
    r = wh.agent("POST", f"/v1/conversations/{cid}/messages", json={"body": reply})
    assert r.status_code == 201, r.text
    page.locator(".wl-msg.wl-agent", has_text="Anna here").wait_for()
    assert page.locator(".wl-typing").inner_text() == "", "a message from the typist ends the indicator"
    assert "INTERNAL" not in shadow_html(page) and "INTERNAL" not in page.content()

    # typing, buyer -> specialist: the agent's event stream carries it
    page.get_by_label("Your message").press_sequentially("Thanks", delay=20)
    typing = read_events(wh, "conversation.typing", cid)
    assert typing["data"] == {"author_kind": "buyer", "name": "buyer"}

    # reload: the same transcript (same message ids, in order), no duplicates, no note
    before = page.locator(".wl-msg[data-id]").evaluate_all("els => els.map(e => e.dataset.id)")
    page.reload()
    page.wait_for_function("window.WarmlineWidget && window.WarmlineWidget.state().ready")
    page.locator(".wl-msg.wl-agent", has_text="Anna here").wait_for()
    after = page.locator(".wl-msg[data-id]").evaluate_all("els => els.map(e => e.dataset.id)")
    assert after == before
    assert [m["id"] for m in wh.messages(cid) if not m["internal"]] == before
    assert "INTERNAL" not in shadow_html(page)
    page.locator(".wl-chip", has_text="GX-220").first.wait_for()
    banner.get_by_text("Anna Berg has joined").wait_for()

    # the specialist resolves: the page says so (the rating question waits for its route)
    handoff_id = wh.agent("GET", "/v1/handoffs?status=claimed").json()["items"][0]["id"]
    assert wh.agent("POST", f"/v1/handoffs/{handoff_id}/resolve").status_code == 200
    banner.get_by_text("This conversation was marked as resolved.").wait_for()


def read_events(wh: WidgetHub, kind: str, cid: str, timeout: float = 15.0) -> dict[str, Any]:
    """The first event of ``kind`` in ``cid`` on the agent's stream (replayed from the start)."""
    import json

    headers = {"Authorization": f"Bearer {wh.agent_token}", "Last-Event-ID": "0"}
    with (
        httpx.Client(base_url=wh.url, timeout=httpx.Timeout(timeout)) as http,
        http.stream("GET", "/v1/events", headers=headers) as stream,
    ):
        for line in stream.iter_lines():
            if line.startswith("data:"):
                event = json.loads(line[5:])
                if event["type"] == kind and event["conversation_id"] == cid:
                    return event
    raise AssertionError(f"no {kind} event")


def test_offline_message_is_queued_and_sent_exactly_once(widget_hub: WidgetHub, context: Any) -> None:
    wh = widget_hub
    page = open_chat(context, wh.shop_url())
    say(page, "Which pump should I use for this coolant loop?")
    clarifying = page.locator(".wl-msg.wl-ai[data-id]").first
    clarifying.wait_for()
    assert clarifying.locator(".wl-body").inner_text().endswith("?"), "a clarifying question"
    cid = conversation_id(page)

    context.set_offline(True)
    page.locator(".wl-status", has_text="You are offline").wait_for()
    say(page, "Typed while offline: does the GX-220 come with a motor?")
    page.locator(".wl-pending .wl-note", has_text="Waiting for connection").wait_for()
    assert "Typed while offline" not in " ".join(bodies(wh, cid))
    # meanwhile the thread moves on at the hub: the page gets it after reconnecting (Last-Event-ID)
    missed = "Posted while you were offline: our warehouse closes at 16:00."
    assert wh.bot(
        "POST", f"/v1/conversations/{cid}/messages", json={"body": missed, "author_kind": "system"}
    ).is_success

    context.set_offline(False)
    page.locator(".wl-msg.wl-system[data-id]", has_text="Posted while you were offline").wait_for()
    page.locator(".wl-msg.wl-buyer[data-id]", has_text="Typed while offline").wait_for()
    wait_for(lambda: page.locator(".wl-pending").count() == 0, "the pending bubble replaced")
    assert page.locator(".wl-msg", has_text="Typed while offline").count() == 1
    assert bodies(wh, cid).count("Typed while offline: does the GX-220 come with a motor?") == 1
    assert page.locator(".wl-msg", has_text="Posted while you were offline").count() == 1

    # the POST reaches the hub but its answer is lost: the retry (same Idempotency-Key) is
    # answered from the hub's record, so the message still exists once
    lost: list[str] = []

    def lose_answer(route: Any) -> None:
        if not lost:
            lost.append(route.request.headers.get("idempotency-key", ""))
            route.fetch()  # delivered to the hub...
            route.abort("connectionreset")  # ...but the page never hears back
        else:
            route.continue_()

    page.route("**/v1/conversations/*/messages", lose_answer)
    say(page, "Second message, its first answer gets lost")
    page.locator(".wl-msg.wl-buyer[data-id]", has_text="Second message").wait_for()
    wait_for(lambda: page.locator(".wl-pending").count() == 0, "the pending bubble replaced")
    assert lost and lost[0].startswith("wl-")
    assert bodies(wh, cid).count("Second message, its first answer gets lost") == 1
    assert page.locator(".wl-msg", has_text="Second message").count() == 1


def test_a_second_tab_continues_the_same_conversation(widget_hub: WidgetHub, context: Any) -> None:
    wh = widget_hub
    first = open_chat(context, wh.shop_url())
    say(first, QUESTION)
    first.locator(".wl-msg.wl-ai[data-id]").first.wait_for()
    cid = conversation_id(first)
    second = open_chat(context, wh.shop_url())
    second.locator(".wl-msg.wl-ai[data-id]").first.wait_for()
    assert conversation_id(second) == cid
    say(second, "Asked from the second tab")
    first.locator(".wl-msg.wl-buyer[data-id]", has_text="Asked from the second tab").wait_for()
    assert bodies(wh, cid).count("Asked from the second tab") == 1


def test_a_site_not_on_the_allowlist_is_told_clearly(widget_hub: WidgetHub, context: Any) -> None:
    wh = widget_hub
    page = open_chat(context, wh.shop_url(origin=wh.shop.other_origin))
    say(page, "Hello from a site that is not allowed")
    status = page.locator(".wl-status")
    status.get_by_text("This chat is not available on this website").wait_for()
    assert wh.shop.other_origin in status.inner_text()
    assert page.get_by_label("Your message").is_disabled()
    assert page.evaluate("window.WarmlineWidget.state().connection") == "refused"


def test_the_rate_limit_is_explained_with_its_wait(widget_hub: WidgetHub, browser: Any) -> None:
    wh = widget_hub
    key = wh.add_key(wh.shop.origin)
    wh.set_limits("1000/60", "2/60")
    try:
        for n in range(2):
            ctx = browser.new_context()
            page = open_chat(ctx, wh.shop_url(key=key))
            say(page, f"chat number {n}")
            page.locator(".wl-msg.wl-buyer[data-id]").wait_for()
            ctx.close()
        ctx = browser.new_context()
        page = open_chat(ctx, wh.shop_url(key=key))
        say(page, "one chat too many")
        status = page.locator(".wl-status")
        status.get_by_text("Too many new chats from your network").wait_for()
        assert "try again in" in status.inner_text()
        page.locator(".wl-pending", has_text="one chat too many").wait_for()  # kept, not lost
        ctx.close()
    finally:
        wh.set_limits("1000/60", "1000/60")


def test_keyboard_only_and_screen_reader_labels(widget_hub: WidgetHub, context: Any) -> None:
    wh = widget_hub
    page = context.new_page()
    page.goto(wh.shop_url())
    page.wait_for_function("window.WarmlineWidget && window.WarmlineWidget.state().ready")
    launcher = page.get_by_role("button", name="Chat with us")
    for _ in range(10):  # Tab until the launcher has focus
        page.keyboard.press("Tab")
        if launcher.evaluate("el => el.getRootNode().activeElement === el"):
            break
    else:
        raise AssertionError("Tab never reached the launcher")
    page.keyboard.press("Enter")
    box = page.get_by_label("Your message")
    wait_for(lambda: box.evaluate("el => el.getRootNode().activeElement === el"), "focus in the message box")
    assert page.locator(".wl-launcher").get_attribute("aria-expanded") == "true"
    page.keyboard.type("first line")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("second line")
    assert box.input_value() == "first line\nsecond line"
    page.keyboard.press("Enter")
    sent = page.locator(".wl-msg.wl-buyer[data-id]")
    sent.wait_for()
    assert sent.locator(".wl-body").inner_text() == "first line\nsecond line"
    assert box.input_value() == ""
    assert page.get_by_role("log", name="Conversation").count() == 1
    assert page.locator(".wl-log").get_attribute("aria-live") == "polite"
    assert page.get_by_role("dialog").count() == 1
    page.keyboard.press("Escape")
    assert page.locator(".wl-panel").is_hidden()
    assert launcher.evaluate("el => el.getRootNode().activeElement === el"), "focus back on the launcher"
    assert launcher.get_attribute("aria-expanded") == "false"


def test_a_360px_phone_and_dark_mode(widget_hub: WidgetHub, browser: Any) -> None:
    wh = widget_hub
    ctx = browser.new_context(viewport={"width": 360, "height": 740}, color_scheme="dark", is_mobile=True)
    try:
        page = open_chat(ctx, wh.shop_url())
        box = page.locator(".wl-panel").bounding_box()
        assert box is not None and box["x"] >= 0  # (rounded: the panel may still be sliding in)
        assert round(box["width"]) <= 360 and round(box["height"]) <= 740
        say(page, QUESTION)
        page.locator(".wl-msg.wl-ai[data-id]").first.wait_for()
        form = page.locator(".wl-form").bounding_box()
        assert form is not None and form["x"] + form["width"] <= 360
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= 360, "nothing sticks out sideways"
        background = page.locator(".wl-panel").evaluate("el => getComputedStyle(el).backgroundColor")
        channels = [int(c) for c in background[background.index("(") + 1 : -1].split(",")[:3]]
        assert sum(channels) < 3 * 80, f"dark background in dark mode, got {background}"
    finally:
        ctx.close()


def test_the_hub_restarts_and_the_page_carries_on(browser: Any, tmp_path: Any) -> None:
    """Stop the hub, type, start it again on the same address: sent once, nothing missed."""
    from warmline.hub.embedded import EmbeddedHub

    from .conftest import ShopServer

    url = f"sqlite:///{tmp_path / 'restart.db'}"
    hub = EmbeddedHub(database_url=url)
    base = hub.start()
    port = int(base.rsplit(":", 1)[1])
    shop = ShopServer(base)
    ctx = browser.new_context()
    try:
        bot = hub.create_bot("bot")
        _agent, _token = hub.create_agent("kim", ["all"])
        wh = WidgetHub(hub, base, "", shop, "", "", httpx.Client(base_url=base, timeout=20), bot)
        wh.key = wh.add_key(shop.origin)
        page = open_chat(ctx, wh.shop_url())
        say(page, "Hello before the restart")
        page.locator(".wl-msg.wl-buyer[data-id]").wait_for()
        cid = conversation_id(page)

        hub.stop()
        page.locator(".wl-status", has_text="reconnecting").wait_for()
        say(page, "Typed while the hub was down")
        page.locator(".wl-pending", has_text="Typed while the hub was down").wait_for()

        hub = EmbeddedHub(database_url=url, port=port)
        hub.start()
        wh.hub = hub
        page.locator(".wl-msg.wl-buyer[data-id]", has_text="Typed while the hub was down").wait_for()
        wait_for(lambda: page.locator(".wl-pending").count() == 0, "nothing left pending")
        assert wait_for(lambda: page.evaluate("window.WarmlineWidget.state().connection") == "live", "live")
        note = "Back online: a specialist will follow up by email."
        assert wh.bot("POST", f"/v1/conversations/{cid}/messages", json={"body": note}).is_success
        page.locator(".wl-msg[data-id]", has_text="Back online").wait_for()
        buyer = [m["body"] for m in wh.bot("GET", f"/v1/conversations/{cid}").json()["messages"]]
        assert buyer.count("Typed while the hub was down") == 1
        assert page.locator(".wl-msg", has_text="Typed while the hub was down").count() == 1
        wh.http.close()
    finally:
        ctx.close()
        shop.close()
        hub.stop()
