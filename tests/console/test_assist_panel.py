"""The assistant panel's cards from AssistJob objects (no hub): order, the card cap, bodies, documents."""

from __future__ import annotations

from datetime import timedelta

from warmline.console.models.assist_model import AssistModel
from warmline.console.widgets.assist_cards import AssistCard
from warmline.console.widgets.assistant_panel import AssistantPanel, document_details, openable_url
from warmline.domain.assist import AssistJob, AssistKind, AssistRequest, AssistResult, AssistStatus, Citation
from warmline.domain.models import AgentRef

from .factories import T0


def done_job(i: int, *, result: AssistResult | None = None, kind: AssistKind = AssistKind.SPEC) -> AssistJob:
    request = (
        AssistRequest(kind=kind, skus=[f"GX-{i:03d}"])
        if kind is AssistKind.SPEC
        else AssistRequest(kind=kind, skus=["GX-220", "GX-240"])
    )
    return AssistJob(
        id=f"j{i:03d}",
        handoff_id="h1",
        conversation_id="c1",
        kind=kind,
        status=AssistStatus.DONE,
        request=request,
        requested_by=AgentRef(id="a", name="Anna"),
        created_at=T0 + timedelta(seconds=i),
        finished_at=T0 + timedelta(seconds=i, milliseconds=400),
        progress=1.0,
        result=result or AssistResult(title=f"Spec sheet: GX-{i:03d}", text=f"GX-{i:03d}: 200 N·m"),
    )


def shown(panel: AssistantPanel) -> list[str]:
    layout = panel.cards_layout
    out = []
    for i in range(layout.count()):
        w = layout.itemAt(i).widget()
        if isinstance(w, AssistCard):
            out.append(w.entry.key)
    return out


def test_newest_first_at_most_twelve_and_earlier_ones_on_request(qtbot):
    model = AssistModel()
    panel = AssistantPanel(model)
    qtbot.addWidget(panel)
    panel.set_handoff("h1")
    model.apply_many([done_job(i) for i in range(15)])
    qtbot.waitUntil(lambda: panel.settled and len(panel.cards) == 12)
    assert shown(panel) == [f"j{i:03d}" for i in range(14, 2, -1)]
    assert panel.earlier_button.isVisibleTo(panel) and "3 earlier results" in panel.earlier_button.text()
    model.apply_job(done_job(15))  # a new result: on top, the oldest shown steps back
    qtbot.waitUntil(lambda: panel.settled and shown(panel)[0] == "j015")
    assert len(panel.cards) == 12 and "4 earlier" in panel.earlier_button.text()
    panel.earlier_button.click()
    qtbot.waitUntil(lambda: panel.settled and len(panel.cards) == 16)
    assert shown(panel) == [f"j{i:03d}" for i in range(15, -1, -1)]
    assert not panel.earlier_button.isVisibleTo(panel)
    panel.set_handoff("other")
    assert panel.cards == {} and panel.hint.isVisibleTo(panel)


def test_compare_card_table_highlights_differences_and_failure_shows_in_card(qtbot):
    rows = [
        {"attribute": "torque", "label": "Torque", "values": ["220 N·m", "240 N·m"], "differs": True},
        {"attribute": "voltage", "label": "Voltage", "values": ["400 V", "400 V"], "differs": False},
        {"attribute": "mounting", "label": "Mounting", "values": [None, "B5"], "differs": True},
    ]
    result = AssistResult(
        title="Compare GX-220, GX-240",
        text="Comparison",
        citations=[Citation(sku="GX-220", title="GX-220 datasheet", kind="datasheet", ref="products.jsonl")],
        data={"skus": ["GX-220", "GX-240"], "rows": rows},
    )
    model = AssistModel()
    panel = AssistantPanel(model)
    qtbot.addWidget(panel)
    panel.set_handoff("h1")
    model.apply_job(done_job(1, result=result, kind=AssistKind.COMPARE))
    failed = done_job(2).model_copy(
        update={"status": AssistStatus.FAILED, "result": None, "error": "catalog gone"}
    )
    model.apply_job(failed)
    qtbot.waitUntil(lambda: panel.settled and len(panel.cards) == 2)
    body = panel.cards["j001"].body.text()  # stacked blocks that wrap: no sideways table
    assert panel.cards["j001"].table is None
    assert "2 of 3 attributes differ" in body
    assert "<b>Torque</b>" in body and 'background:#FEF3C7; font-weight:700;">240 N·m</span>' in body
    assert "Same on all: voltage 400 V" in body  # agreeing attributes on one line
    assert "no source states it" in body  # Mounting unknown for GX-220: a dash, not a guess
    bad = panel.cards["j002"]
    assert "catalog gone" in bad.body.text() and bad.retry_button.isVisibleTo(bad)
    assert not bad.insert_button.isVisibleTo(bad)
    # "Open document": a catalog ref that is neither a URL nor a file opens the non-modal view
    assert openable_url("products.jsonl") is None
    assert openable_url("https://example.com/d.pdf").toString() == "https://example.com/d.pdf"
    view = panel.open_document(panel.cards["j001"].entry, result.citations[0])
    assert view is not None and not view.isModal() and "GX-220 datasheet" in view.text.text()
    view.close()


def test_document_details_come_from_the_jobs_own_sheets(qtbot):
    sheet = {
        "product": {"sku": "GX-240", "name": "Gearbox", "status": "active"},
        "attributes": [
            {
                "name": "torque",
                "label": "Torque",
                "value": "240 N·m",
                "source": {"value": "240 N·m", "document_title": "GX-240 datasheet"},
                "sources": [{"value": "250 N·m", "document_title": "GX-240 manual"}],
            }
        ],
        "documents": [
            {"title": "GX-240 datasheet", "kind": "datasheet", "excerpt": "Stainless helical gearbox"}
        ],
    }
    job = done_job(1, result=AssistResult(title="Spec", text="t", data={"sheets": [sheet]}))
    model = AssistModel()
    entry = model.apply_job(job)
    d = document_details(entry, Citation(title="GX-240 datasheet"))
    assert d == {"excerpt": "Stainless helical gearbox", "facts": ["Torque: 240 N·m"]}
    assert document_details(entry, Citation(title="GX-240 manual"))["facts"] == ["Torque: 250 N·m"]
