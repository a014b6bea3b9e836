"""Buyer-ready text for "Insert into reply" (issue 18.3), the /draft opening (no pasted buyer
message), and "did you mean" SKUs read from the 422's own field (issue 17.7)."""

from __future__ import annotations

import httpx

from warmline.assist.lookups import DraftFacts, template_draft
from warmline.console.client.hub_client import HubError
from warmline.console.reply_text import buyer_text
from warmline.console.session_assist import _refusal
from warmline.domain.assist import AssistKind, AssistResult, Citation
from warmline.domain.packet import HandoffPacket

INTERNAL = ("Confidence", "like-for-like", "checks", "(datasheet)", "✓", "✗", "Sources:")


def subs_result() -> AssistResult:
    data = {
        "sku": "GX-200",
        "constraints": ["torque>=180Nm", "ip>=65"],
        "candidates": [
            {
                "rank": 1,
                "product": {"sku": "GX-220", "name": "Helical gearbox", "status": "active"},
                "verdicts": [
                    {
                        "constraint": "torque ≥ 180 N·m",
                        "attribute": "torque",
                        "verdict": "meets",
                        "actual": "220 N·m",
                    },
                    {"constraint": "ip ≥ IP65", "attribute": "ip", "verdict": "meets", "actual": "IP65"},
                    {"constraint": "voltage = 400 V", "attribute": "voltage", "verdict": "unknown"},
                ],
                "confidence_note": "High confidence: Meets 1 of 1 constraints. 2/2 like-for-like checks",
            },
            {
                "rank": 2,
                "product": {"sku": "GX-750", "name": "Heavy gearbox"},
                "verdicts": [{"constraint": "torque ≥ 180 N·m", "verdict": "fails", "actual": "750 N·m"}],
            },
        ],
    }
    cites = [
        Citation(
            sku="GX-220", title="GX-220 datasheet", kind="datasheet", ref="https://example.com/gx220.pdf"
        ),
        Citation(sku="GX-750", title="GX-750 datasheet", kind="datasheet", ref="catalog:doc-9"),
    ]
    text = "Substitutes for GX-200\n1. GX-220 ✓2 ?1 Confidence: High confidence: Meets 1 of 1 constraints."
    return AssistResult(title="Substitutes", text=text, data=data, citations=cites)


def test_inserted_substitutes_are_short_buyer_text_with_facts_and_links():
    text = buyer_text(AssistKind.SUBSTITUTES, subs_result())
    assert text.splitlines() == [
        "A replacement for GX-200:",
        "- GX-220 (Helical gearbox) — torque 220 N·m, IP65 (I will confirm voltage = 400 V)",
        "Document: GX-220 datasheet (https://example.com/gx220.pdf)",
    ]
    assert "GX-750" not in text  # fails the need: not offered to the buyer
    assert not any(word in text for word in INTERNAL)


def test_inserted_spec_sheet_has_trusted_facts_and_lifecycle_only():
    sheet = {
        "product": {"sku": "GX-180", "name": "Old gearbox", "status": "discontinued"},
        "superseded_by": "GX-220",
        "attributes": [
            {"label": "Rated torque", "value": "180", "unit": "N·m"},
            {"label": "IP rating", "value": "IP55"},
            {"label": "Weight", "value": "12 kg", "conflict": True},
            {"label": "Efficiency", "value": "best in class", "marketing_only": True},
        ],
    }
    result = AssistResult(title="Spec", text="…", data={"sheets": [sheet]})
    text = buyer_text(AssistKind.SPEC, result)
    assert text == (
        "GX-180 (Old gearbox): rated torque 180 N·m, ip rating IP55. "
        "Please note GX-180 is discontinued; its successor is GX-220."
    )


def test_a_draft_goes_in_as_written_and_nothing_for_empty_results():
    draft = AssistResult(title="Draft", text="Hello Maja,\n\nThe GX-220 fits.\n", data={})
    assert buyer_text(AssistKind.DRAFT, draft) == "Hello Maja,\n\nThe GX-220 fits."
    assert buyer_text(AssistKind.ACCESSORIES, AssistResult(title="Acc", text="x", data={"items": []})) == ""
    assert buyer_text(AssistKind.SPEC, None) == ""


def packet(goal: str, unresolved: list[str]) -> HandoffPacket:
    return HandoffPacket.model_validate(
        {
            "reason": "complexity",
            "summary": "Needs engineering judgement.",
            "goal": goal,
            "goal_turn": 1,
            "products": [{"sku": "GX-220", "name": "Gearbox"}],
            "unresolved": [{"text": t} for t in unresolved],
        }
    )


def test_draft_does_not_paste_the_buyers_message_as_goal_or_open_item():
    question = "hi, what is the rated output torque of the GX-220 at 1400 rpm?"
    text, _ = template_draft(
        packet(question, [question, "Buyer's last message: “" + question + "”", "Lead time to Oslo"]),
        DraftFacts(),
        [],
        [],
    )
    assert "You're looking to" not in text and "?." not in text
    assert "You asked about GX-220." in text
    assert question not in text
    assert "Still open: Lead time to Oslo. I'll come back to you on these." in text
    plain, _ = template_draft(packet("Replace a worn conveyor gearbox.", []), DraftFacts(), [], [])
    assert "You're looking to replace a worn conveyor gearbox." in plain


def test_did_you_mean_comes_from_the_errors_field_not_its_message():
    body = {
        "detail": [
            {
                "loc": ["body", "skus", 0],
                "msg": "unknown SKU 'GX-230'",
                "type": "value_error",
                "closest": ["GX-220", "GX-240"],
            }
        ]
    }
    exc = HubError.from_response(httpx.Response(422, json=body))
    assert exc.closest == ["GX-220", "GX-240"]
    assert _refusal(exc) == ("Unknown SKU 'GX-230'", ["GX-220", "GX-240"])
    ctx = {"detail": [{"loc": ["body", "skus", 0], "msg": "unknown SKU 'X'", "ctx": {"closest": ["X-1"]}}]}
    assert HubError.from_response(httpx.Response(422, json=ctx)).closest == ["X-1"]
    # an older hub: read from the message
    old = {"detail": [{"loc": ["body", "skus", 0], "msg": "unknown SKU 'GX-230'; closest: GX-220, GX-240"}]}
    assert _refusal(HubError.from_response(httpx.Response(422, json=old)))[1] == ["GX-220", "GX-240"]
