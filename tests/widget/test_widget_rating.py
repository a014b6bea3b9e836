"""The buyer's rating after resolve (issue 13 item 4) in a real headless Chromium against a
real hub: the widget asks the one question when the specialist resolves, the buyer picks
stars (keyboard: Tab/Space), adds a comment and sends; the hub stores it on the handoff's
facts (GET /v1/handoffs/{id}/review), and a reload does not ask twice."""

from __future__ import annotations

from typing import Any

from .conftest import WidgetHub, wait_for
from .test_widget_browser import QUOTE, claim, conversation_id, open_chat, say


def test_the_buyer_rates_the_resolved_conversation(widget_hub: WidgetHub, context: Any) -> None:
    wh = widget_hub
    page = open_chat(context, wh.shop_url())
    events: list[Any] = []
    page.expose_function("wlResolved", lambda cid: events.append(cid))
    page.evaluate("window.addEventListener('warmline:resolved', e => wlResolved(e.detail.conversationId))")
    say(page, QUOTE)
    banner = page.locator(".wl-banner")
    banner.get_by_text("A specialist is joining").wait_for()
    cid = conversation_id(page)
    handoff_id = claim(wh, cid)
    r = wh.agent("POST", f"/v1/handoffs/{handoff_id}/resolve", json={"outcome": "quote_sent"})
    assert r.status_code == 200, r.text
    banner.get_by_text("This conversation was marked as resolved.").wait_for()
    form = banner.locator(".wl-rating")
    form.get_by_text("How did we do?").wait_for()
    wait_for(lambda: events == [cid], "the warmline:resolved event")

    form.get_by_role("button", name="Send rating").click()  # no stars yet: asked to pick
    form.get_by_text("Pick 1 to 5 stars first.").wait_for()
    form.get_by_role("button", name="4 of 5").focus()
    page.keyboard.press("Space")
    assert form.get_by_role("button", name="4 of 5").get_attribute("aria-pressed") == "true"
    assert form.get_by_role("button", name="5 of 5").get_attribute("aria-pressed") == "false"
    form.get_by_label("Comment (optional)").fill("Quick and clear")
    form.get_by_role("button", name="Send rating").click()
    banner.get_by_text("Thank you for your rating.").wait_for()

    review = wh.agent("GET", f"/v1/handoffs/{handoff_id}/review").json()
    assert review["rating"] == 4 and review["rating_comment"] == "Quick and clear"
    assert review["outcome"] == "quote_sent"

    # a reload asks again, and sending says thanks without storing a second rating (409)
    page.reload()
    page.wait_for_function("window.WarmlineWidget && window.WarmlineWidget.state().ready")
    if page.locator(".wl-panel").is_hidden():
        page.get_by_role("button", name="Chat with us").click()
    form = page.locator(".wl-banner .wl-rating")
    form.get_by_role("button", name="2 of 5").click()
    form.get_by_role("button", name="Send rating").click()
    page.locator(".wl-banner").get_by_text("Thank you for your rating.").wait_for()
    assert wh.agent("GET", f"/v1/handoffs/{handoff_id}/review").json()["rating"] == 4
