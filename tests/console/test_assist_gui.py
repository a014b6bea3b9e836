"""The assistant panel against a real hub holding the demo catalog, driven offscreen through its widgets."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialog

from warmline.console.models.assist_model import REFUSED
from warmline.console.widgets.shortcuts_dialog import SHORTCUTS
from warmline.console.widgets.transcript_view import author_line, bubble_text
from warmline.domain.assist import AssistJob, AssistKind, AssistRequest
from warmline.domain.models import HandoffCreated

from .conftest import wait_until
from .hubdata import HubData, conversation, packet

pytestmark = pytest.mark.gui


@pytest.fixture(scope="session")
def demo_catalog_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo catalog ingested once into a SQLite file; each test gets its own copy."""
    from warmline.catalog.demo import ensure_demo_catalog

    path = tmp_path_factory.mktemp("assist-catalog") / "template.db"
    asyncio.run(ensure_demo_catalog(f"sqlite:///{path}"))
    return path


@pytest.fixture
def hub_database_url(demo_catalog_db: Path, tmp_path: Path) -> str:
    db = tmp_path / "warmline.db"
    shutil.copyfile(demo_catalog_db, db)
    return f"sqlite:///{db}"


def gearbox_handoff(
    data: HubData,
    company: str,
    *,
    products: list[dict[str, Any]],
    sub_reason: str = "live_pricing",
    summary: str = "Pricing and lead time need live account data.",
    reason: str = "live_data",
) -> HandoffCreated:
    """A bot hands off a GX gearbox conversation (demo catalog SKUs) through the public API."""
    p = packet(company=company, reason=reason, summary=summary)
    p.update(
        sub_reason=sub_reason,
        products=products,
        documents=[],
        quantities=[],
        constraints=[
            {"name": "torque", "value": ">= 180", "unit": "N·m", "source_turn": 1},
            {"name": "ip", "value": ">= IP65", "source_turn": 1},
        ],
    )
    r = data.http.post(
        "/v1/handoffs",
        json={"conversation": conversation(company), "packet": p, "required_skills": ["drives"]},
        headers={"Authorization": f"Bearer {data.bot_token}", "Idempotency-Key": uuid.uuid4().hex},
    )
    assert r.status_code == 201, r.text
    return HandoffCreated.model_validate(r.json())


DISCONTINUED = [
    {"sku": "GX-200", "name": "Helical washdown gearbox", "family": "gearbox", "role": "discontinued"},
    {"sku": "GX-220", "name": "Helical washdown gearbox", "family": "gearbox", "role": "candidate"},
]
PLAIN = [{"sku": "GX-240", "name": "Helical washdown gearbox", "family": "gearbox", "role": "candidate"}]


def jobs_on_hub(data: HubData, token: str, handoff_id: str) -> list[AssistJob]:
    r = data.http.get(f"/v1/handoffs/{handoff_id}/assist", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    return [AssistJob.model_validate(j) for j in r.json()["items"]]


def cards(window) -> list:
    """The panel's cards, top (newest) first."""
    layout = window.assistant.cards_layout
    found = []
    for i in range(layout.count()):
        w = layout.itemAt(i).widget()
        if w is not None and w in window.assistant.cards.values():
            found.append(w)
    return found


def card_for(window, kind: AssistKind, skus: list[str] | None = None):
    for c in cards(window):
        if c.entry.request.kind is kind and (skus is None or c.entry.request.skus == skus):
            return c
    return None


def done(card) -> bool:
    return bool(card is not None and card.shown_status == "done" and card.body.isVisible())


def test_opening_a_handoff_fills_the_panel_notes_stay_internal_and_reopening_shows_earlier_results(
    data, open_console, run
):
    gone = gearbox_handoff(
        data,
        "Replaced Part AB",
        products=DISCONTINUED,
        sub_reason="discontinued_replacement",
        reason="complexity",
        summary="GX-200 is discontinued; the buyer needs a replacement.",
    )
    plain = gearbox_handoff(data, "Plain Quote AB", products=PLAIN)
    window = open_console(data.base_url, data.token("anna"))
    window.session.auto_assist_delay = 0
    anna = data.token("anna")

    async def scenario():
        await wait_until(
            lambda: window.queue_panel.select_id(gone.handoff.id), "the discontinued handoff selected"
        )
        # without being asked: spec sheets for the packet's SKUs, substitutes for the discontinued one
        await wait_until(
            lambda: done(card_for(window, AssistKind.SPEC, ["GX-200", "GX-220"])), "auto spec card"
        )
        await wait_until(lambda: done(card_for(window, AssistKind.SUBSTITUTES, ["GX-200"])), "auto subs card")
        spec = card_for(window, AssistKind.SPEC, ["GX-200", "GX-220"])
        assert "GX-220" in spec.body.text() and "N·m" in spec.body.text()
        assert "superseded → GX-220" in spec.body.text()  # GX-200 is discontinued, with a successor
        assert spec.sources.isVisible() and "GX-220 datasheet" in spec.sources.text()
        assert (
            spec.insert_button.isVisible() and spec.copy_button.isVisible() and spec.open_button.isVisible()
        )
        subs = card_for(window, AssistKind.SUBSTITUTES, ["GX-200"])
        candidates = subs.entry.job.result.data["candidates"]
        assert candidates and candidates[0]["product"]["sku"] == "GX-220"  # the named successor first
        assert "GX-220" in subs.body.text()
        assert len(cards(window)) == 2  # and nothing else

        # each result is an internal note in my transcript, visibly marked...
        await wait_until(
            lambda: sum(1 for m in window.session.transcript.messages() if m.internal) == 2,
            "two internal notes",
        )
        notes = [m for m in window.session.transcript.messages() if m.internal]
        assert {n.assist_job_id for n in notes} == {spec.entry.job_id, subs.entry.job_id}
        assert all(author_line(n).startswith("INTERNAL NOTE") for n in notes)
        spec_note = next(n for n in notes if n.assist_job_id == spec.entry.job_id)
        shown = bubble_text(spec_note)  # collapsed to one line in the thread; the card has it all
        assert "\n" not in shown and "more lines" in shown
        assert spec_note.body.splitlines()[0].strip()[:40] in shown
        assert bubble_text(spec_note, expanded=True) == spec_note.body
        # ...and the buyer never sees them, over HTTP with the buyer's own token
        r = data.http.get(
            f"/v1/conversations/{gone.handoff.conversation_id}",
            headers={"Authorization": f"Bearer {gone.buyer_token}"},
        )
        assert r.status_code == 200, r.text
        buyer_sees = r.json()["messages"]
        assert buyer_sees and not any(m.get("internal") or m.get("assist_job_id") for m in buyer_sees)
        assert not any("GX-220 datasheet" in m["body"] for m in buyer_sees)

        # another handoff: only its own lookups (a spec sheet; no substitutes for a plain quote)
        assert window.queue_panel.select_id(plain.handoff.id)
        await wait_until(
            lambda: done(card_for(window, AssistKind.SPEC, ["GX-240"])), "spec card of the other"
        )
        assert card_for(window, AssistKind.SUBSTITUTES) is None
        assert card_for(window, AssistKind.SPEC, ["GX-200", "GX-220"]) is None

        # back again: the earlier results show, and no lookup runs twice
        assert window.queue_panel.select_id(gone.handoff.id)
        await wait_until(lambda: window.session.current is not None, "reopened")
        await wait_until(
            lambda: len(cards(window)) == 2 and all(done(c) for c in cards(window)), "earlier cards"
        )
        await asyncio.sleep(0.3)  # give a wrong second round of auto lookups the time to show up
        assert len(cards(window)) == 2
        assert len(jobs_on_hub(data, anna, gone.handoff.id)) == 2

    run(scenario())


def test_commands_subs_verdicts_compare_insert_and_did_you_mean(data, open_console, run):
    h = gearbox_handoff(data, "Commands AB", products=PLAIN)
    window = open_console(data.base_url, data.token("anna"))
    window.session.auto_assist_delay = 0
    panel = window.assistant

    async def scenario():
        await wait_until(lambda: done(card_for(window, AssistKind.SPEC, ["GX-240"])), "auto spec card")
        window.claim_button.click()
        await wait_until(lambda: window.composer.edit.isEnabled(), "claimed: composer enabled")

        # SKU completion: the packet's SKUs at once, the catalog's after a pause in typing
        panel.command.setFocus()
        QTest.keyClicks(panel.command, "/spec GX-2")
        offered = panel.completions.stringList
        assert offered() == ["GX-240"]  # the packet's SKU, before the catalog answers
        await wait_until(lambda: len(offered()) > 1, "catalog SKUs offered")
        assert offered()[0] == "GX-240" and "GX-220" in offered()
        panel.command.take_completion("GX-220")
        assert panel.command.text() == "/spec GX-220 "
        panel.completer.popup().hide()
        panel.command.clear()

        # /subs typed into the command box (focused with Ctrl+K), Enter
        window.activateWindow()
        await wait_until(lambda: window.isActiveWindow(), "window active")
        QTest.keyClick(window, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
        assert panel.command.hasFocus()
        QTest.keyClicks(panel.command, "/subs GX-220 torque>=180Nm ip>=65")
        panel.completer.popup().hide()
        QTest.keyClick(panel.command, Qt.Key.Key_Return)
        assert panel.command.text() == ""
        await wait_until(lambda: done(card_for(window, AssistKind.SUBSTITUTES, ["GX-220"])), "subs card done")
        subs = card_for(window, AssistKind.SUBSTITUTES, ["GX-220"])
        assert cards(window)[0] is subs  # newest on top
        result = subs.entry.job.result
        assert result.data["constraints"]
        for cand in result.data["candidates"]:
            assert len(cand["verdicts"]) >= 2
            assert {v["verdict"] for v in cand["verdicts"]} <= {"meets", "fails", "unknown"}
        verdicts = [v["verdict"] for c in result.data["candidates"][:3] for v in c["verdicts"]]
        marks = {"meets": "✓", "fails": "✗", "unknown": "?"}
        for v in set(verdicts):  # every verdict shown is marked on the card
            assert f">{marks[v]}</span>" in subs.body.text()
        assert "GX-240" in subs.body.text()  # a washdown sibling that meets torque and IP

        # Up brings the command back (history); Esc hands focus back to the composer
        QTest.keyClick(panel.command, Qt.Key.Key_Up)
        assert panel.command.text() == "/subs GX-220 torque>=180Nm ip>=65"
        QTest.keyClick(panel.command, Qt.Key.Key_Escape)
        assert window.focusWidget() is window.composer.edit  # (the completion popup may hold activation)

        # "Insert into reply" puts buyer-ready text at the composer's cursor, keeping what was typed:
        # the SKUs and the facts that answer, no internal analysis
        QTest.keyClicks(window.composer.edit, "Hi Maja, options:")
        subs.insert_button.click()
        text = window.composer.edit.toPlainText()
        inserted = text.removeprefix("Hi Maja, options:\n")
        assert text.startswith("Hi Maja, options:\n") and inserted == subs.reply_text()
        assert "GX-240" in inserted and "GX-220" in inserted and "HG-0220" not in inserted
        for internal in ("Confidence", "like-for-like", "checks", "(datasheet)", "✓", "✗"):
            assert internal not in inserted, internal
        assert len(inserted.splitlines()) <= 6
        # the composer grew with it, up to half the conversation pane
        assert window.composer.edit.height() > 78
        assert window.composer.edit.height() <= window.composer.parentWidget().height() // 2

        # "Copy" puts the whole analysis on the clipboard (and says so, without a dialog)
        subs.copy_button.click()
        assert QApplication.clipboard().text() == result.text
        assert "Copied" in window.banner.label.text()
        # Ctrl+K is in the shortcuts list (F1) and on the View menu
        assert "Ctrl+K" in [k for k, _ in SHORTCUTS]
        assert window.assist_action.shortcut().toString() == "Ctrl+K"

        # compare: one wrapping block per differing attribute, values highlighted (readable when narrow)
        panel.command.setText("/compare GX-220 GX-240")
        QTest.keyClick(panel.command, Qt.Key.Key_Return)
        await wait_until(lambda: done(card_for(window, AssistKind.COMPARE)), "compare card done")
        cmp = card_for(window, AssistKind.COMPARE)
        rows = cmp.entry.job.result.data["rows"]
        body = cmp.body.text()
        differ = [r for r in rows if r["differs"]]
        assert differ and f"{len(differ)} of {len(rows)} attributes differ" in body
        for row in differ[:8]:
            assert f"<b>{row['label']}</b>" in body, row
        torque = next(row for row in rows if "torque" in row["attribute"])
        assert torque["differs"] and "240" in body
        assert cmp.body.width() <= cmp.width()  # inside the card, no sideways scrolling

        # an unknown SKU: refused in its card (no dialog), with the closest SKUs to click
        panel.command.setText("/spec GX-24")
        QTest.keyClick(panel.command, Qt.Key.Key_Return)
        await wait_until(lambda: any(c.shown_status == REFUSED for c in cards(window)), "refused card")
        bad = next(c for c in cards(window) if c.shown_status == REFUSED)
        assert "GX-24" in bad.body.text() and "GX-240" in bad.entry.closest
        assert not [w for w in QApplication.topLevelWidgets() if isinstance(w, QDialog) and w.isVisible()]
        bad.body.linkActivated.emit("closest:GX-240")
        await wait_until(
            lambda: sum(1 for c in cards(window) if c.entry.request.skus == ["GX-240"] and done(c)) == 2,
            "the suggested SKU looked up",
        )

        # a parse error stays under the box, text kept
        panel.command.setText("/compare GX-220")
        QTest.keyClick(panel.command, Qt.Key.Key_Return)
        assert panel.error.isVisible() and "2 to 4" in panel.error.text()
        assert panel.command.text() == "/compare GX-220"

        # a summary of a document and a reply draft, shown in their cards
        panel.run_command("/sum GX-240 operating manual (rev. B)")
        panel.run_command("/draft offer the GX-240")
        await wait_until(lambda: done(card_for(window, AssistKind.SUMMARY)), "summary card done")
        await wait_until(lambda: done(card_for(window, AssistKind.DRAFT)), "draft card done")
        summary = card_for(window, AssistKind.SUMMARY)
        assert "GX-240 operating manual" in summary.body.text() and "&#8226;" in summary.body.text()
        draft = card_for(window, AssistKind.DRAFT)
        assert "rounded in" in draft.body.text()  # grounded, or "Not grounded ... check before sending"
        assert draft.insert_button.isVisible()

        # the packet card's product links start the same lookups
        window.card.section_labels["products"].linkActivated.emit("assist:acc:GX-240")
        await wait_until(lambda: done(card_for(window, AssistKind.ACCESSORIES, ["GX-240"])), "acc card done")

        # open document: catalog documents have no link or file: a non-modal view of what was used
        spec = card_for(window, AssistKind.SPEC, ["GX-240"])
        cite = next(c for c in spec.citations if c.title == "GX-240 datasheet")
        view = panel.open_document(spec.entry, cite)
        assert view is not None and view.isVisible() and not view.isModal()
        assert "Torque" in view.text.text() or "torque" in view.text.text()
        view.close()

        on_hub = {j.id: j for j in jobs_on_hub(data, data.token("anna"), h.handoff.id)}
        for c in cards(window):
            if c.entry.job is not None:
                assert on_hub[c.entry.job_id].status == c.entry.job.status

    run(scenario())


def test_composer_loses_no_keystroke_during_a_burst_of_20_lookups(data, open_console, run):
    h = gearbox_handoff(data, "Burst AB", products=PLAIN)
    window = open_console(data.base_url, data.token("anna"))
    window.session.auto_assist_delay = 0
    panel = window.assistant
    skus = ["GX-200", "GX-220", "GX-240", "GX-180"]
    typed = "Thanks Maja - the GX-240 meets 180 N·m and IP66; I'll confirm price and lead time today. " * 3

    async def scenario():
        await wait_until(lambda: done(card_for(window, AssistKind.SPEC, ["GX-240"])), "auto spec card")
        window.claim_button.click()
        await wait_until(lambda: window.composer.edit.isEnabled(), "claimed")
        before = len(cards(window))
        started = [
            panel.run_command(f"/{('spec', 'subs', 'acc')[i % 3]} {skus[i % len(skus)]}") for i in range(20)
        ]
        assert before == 1 and all(started)
        window.composer.edit.setFocus()
        QTest.keyClicks(window.composer.edit, typed)  # while the 20 run and their events arrive
        entries = window.session.assist.entries(h.handoff.id)
        await wait_until(
            lambda: len(entries) == 21 and all(e.status == "done" for e in entries), "all done", 60
        )
        await wait_until(lambda: panel.settled, "the panel caught up")
        assert window.composer.edit.toPlainText() == typed
        # the 12 newest as cards, all done, newest on top; the rest one click away
        assert [c.entry.key for c in cards(window)] == [e.key for e in reversed(entries)][:12]
        assert all(map(done, cards(window)))
        assert "9 earlier results" in panel.earlier_button.text()
        assert panel.running_label.text() == ""

    run(scenario())


def test_cancel_a_queued_lookup_on_a_busy_hub(hub, data, open_console, run):
    """All the hub's assistant slots are taken (a busy hub), so the job waits queued and the cancel lands."""
    gearbox_handoff(data, "Cancel AB", products=PLAIN)
    window = open_console(data.base_url, data.token("anna"))
    window.session.auto_assist_delay = 0
    panel = window.assistant
    runner = hub.app.state.assist_runner
    held = 0

    async def hold() -> None:
        await runner._slots.acquire()

    async def free() -> None:
        runner._slots.release()

    async def scenario():
        nonlocal held
        await wait_until(lambda: done(card_for(window, AssistKind.SPEC, ["GX-240"])), "auto spec card")
        for _ in range(8):
            if runner._slots.locked():
                break
            hub.run(hold())
            held += 1
        key = panel.run_request(AssistRequest(kind=AssistKind.SPEC, skus=["GX-220"]))
        card = await wait_until(lambda: panel.cards.get(key), "the card")
        await wait_until(lambda: card.shown_status == "queued", "queued on the busy hub")
        assert card.cancel_button.isVisible() and card.progress.isVisible()
        card.cancel_button.click()
        await wait_until(lambda: card.shown_status == "cancelled", "cancelled")
        assert "Cancelled" in card.status.text() and not card.progress.isVisible()
        assert card.retry_button.isVisible()
        for _ in range(held):
            hub.run(free())
        held = 0
        card.retry_button.click()
        await wait_until(
            lambda: sum(1 for c in cards(window) if c.entry.request.skus == ["GX-220"]) == 2, "retry"
        )
        retry = next(c for c in cards(window) if c.entry.request.skus == ["GX-220"] and c is not card)
        await wait_until(lambda: done(retry), "retry done")
        r = httpx.get(
            f"{data.base_url}/v1/assist/{card.entry.job_id}",
            headers={"Authorization": f"Bearer {data.token('anna')}"},
        )
        assert r.json()["status"] == "cancelled" and r.json()["note_message_id"] is None

    try:
        run(scenario())
    finally:
        for _ in range(held):
            hub.run(free())
