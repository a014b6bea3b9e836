"""Issue 13 item 2 in the console, against a real hub: Handoff ▸ Resolve with review…
(Ctrl+Alt+D) asks the outcome and the review by keyboard (3 = order placed, Alt+A
unnecessary, Alt+E late at a message number, Enter resolves) and the hub stores them;
Skip review resolves with nothing recorded; plain Resolve still asks nothing."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from .conftest import wait_until

pytestmark = pytest.mark.gui


def test_resolve_with_review_by_keyboard(data, open_console, run):
    first = data.create_handoff("Review Mills AB", skills=["drives"], priority="urgent")
    second = data.create_handoff("Skip Review Oy", skills=["drives"], priority="normal")
    for h in (first, second):
        assert data.claim("anna", h.handoff.id).status_code == 200
    anna = {"Authorization": f"Bearer {data.token('anna')}"}
    window = open_console(data.base_url, data.token("anna"))
    s = window.session

    def status(handoff_id: str) -> str:
        return data.http.get(f"/v1/handoffs/{handoff_id}", headers=anna).json()["status"]

    async def scenario():
        await wait_until(lambda: s.current is not None and s.current.id == first.handoff.id, "first shown")
        await wait_until(lambda: s.is_mine(), "mine")
        QTest.keySequence(window, "Ctrl+Alt+D")
        await wait_until(lambda: getattr(window, "resolve_panel", None) is not None, "the panel")
        panel = window.resolve_panel
        await wait_until(lambda: panel.isVisible(), "the panel shown")
        panel.activateWindow()
        await wait_until(lambda: panel.isActiveWindow(), "the panel active")
        QTest.keyClick(panel.focusWidget() or panel, Qt.Key.Key_3)
        assert panel.outcome.currentData() == "order_placed"
        QTest.keySequence(panel, "Alt+A")
        QTest.keySequence(panel, "Alt+E")
        assert panel.unnecessary.isChecked() and panel.late.isChecked() and panel.late_turn.isEnabled()
        panel.late_turn.setValue(1)
        assert panel.review() == {
            "outcome": "order_placed",
            "unnecessary": True,
            "late": True,
            "late_turn": 1,
        }
        QTest.keyClick(panel.resolve_button, Qt.Key.Key_Return)
        await wait_until(lambda: not panel.isVisible(), "the panel closed")
        hid = first.handoff.id
        await wait_until(
            lambda: data.http.get(f"/v1/handoffs/{hid}", headers=anna).json()["status"] == "resolved",
            "resolved",
        )
        review = data.http.get(f"/v1/handoffs/{hid}/review", headers=anna).json()
        assert (review["outcome"], review["unnecessary"], review["late"], review["late_turn"]) == (
            "order_placed",
            True,
            True,
            1,
        )
        assert review["reviewed"] is True

        # the next one: skip the review
        await wait_until(lambda: s.current is not None and s.current.id == second.handoff.id, "second shown")
        await wait_until(lambda: s.is_mine(), "mine")
        window.show_resolve_panel()
        await wait_until(lambda: panel.isVisible(), "shown again")
        assert panel.review() == {}  # fresh answers
        panel.activateWindow()
        await wait_until(lambda: panel.isActiveWindow(), "the panel active")
        QTest.keySequence(panel, "Alt+S")
        hid2 = second.handoff.id
        await wait_until(
            lambda: data.http.get(f"/v1/handoffs/{hid2}", headers=anna).json()["status"] == "resolved",
            "resolved",
        )
        review = data.http.get(f"/v1/handoffs/{hid2}/review", headers=anna).json()
        assert review["reviewed"] is False and review["outcome"] is None

    run(scenario())
