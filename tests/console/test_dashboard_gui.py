"""Issue 13 item 6 in the console, against a real hub: View ▸ Dashboard (Ctrl+Shift+M) shows
the seven measures of GET /v1/metrics as tiles (with the previous period under each) and the
daily series as a table; the test checks every tile and the table against the hub's answer."""

from __future__ import annotations

import pytest
from PySide6.QtTest import QTest

from warmline.console.widgets.dashboard import TILES

from .conftest import wait_until

pytestmark = pytest.mark.gui


def test_dashboard_tiles_match_the_hubs_metrics(data, open_console, run):
    anna = {"Authorization": f"Bearer {data.token('anna')}"}
    for company, review in (
        ("Dash Mills AB", {"outcome": "order_placed", "unnecessary": False}),
        ("Dash Pumps Oy", {"outcome": "lost", "late": True}),
        ("Dash Drives AG", None),
    ):
        created = data.create_handoff(company, skills=["drives"], priority="normal")
        hid, conv = created.handoff.id, created.handoff.conversation_id
        assert data.claim("anna", hid).status_code == 200
        r = data.http.post(f"/v1/conversations/{conv}/messages", headers=anna, json={"body": "Hello!"})
        assert r.status_code == 201, r.text
        if review is not None:
            r = data.http.post(f"/v1/handoffs/{hid}/resolve", headers=anna, json=review)
            assert r.status_code == 200, r.text
    window = open_console(data.base_url, data.token("anna"))

    async def scenario():
        await wait_until(lambda: window.session.loaded, "signed in")
        QTest.keySequence(window, "Ctrl+Shift+M")
        await wait_until(lambda: getattr(window, "dashboard_view", None) is not None, "opened")
        view = window.dashboard_view
        await wait_until(lambda: view.loads >= 1, "the metrics loaded")
        this, _before = view.windows()
        report = data.http.get("/v1/metrics", headers=anna, params=this).json()
        assert report["counts"]["escalated"] == 3 and report["counts"]["resolved"] == 2
        for name, (title, value, detail) in TILES.items():
            tile = view.tiles[name]
            assert tile.title.text() == title
            assert tile.value.text() == value(report), name
            assert tile.detail.text() == detail(report), name
            assert tile.previous.text().startswith("previous 30 days:")
        assert view.tiles["unnecessary"].value.text() == "0 %"  # 0 of 2 resolved
        assert view.tiles["late"].value.text() == "100 %"  # the lost one was late
        assert view.daily.rowCount() == len(report["daily"]) >= 1
        assert view.daily.item(0, 1).text() == str(report["daily"][-1]["counts"]["escalated"])
        assert "3 escalations · 2 resolved" in view.summary.text()
        view.period.setCurrentIndex(0)  # 7 days: asks again
        await wait_until(lambda: view.loads >= 2, "reloaded for 7 days")
        assert view.tiles["late"].previous.text() == "previous 7 days: –"
        view.close()

    run(scenario())
