"""Unit tests of the pure parts of warmline.assist.lookups (no database, no hub)."""

from __future__ import annotations

from warmline.assist.lookups import (
    DraftFacts,
    _cite_source,
    _Cites,
    check_constraint,
    compare_rows,
    keeps_facts,
    key_points,
    packet_constraints,
    template_draft,
    with_sources,
)
from warmline.catalog.models import (
    AttributeSource,
    DocKind,
    DocumentInfo,
    ProductSummary,
    SpecAttribute,
    SpecSheet,
)
from warmline.catalog.units import parse_constraint, parse_quantity
from warmline.domain.assist import Citation
from warmline.domain.packet import HandoffPacket


def _attr(
    name: str,
    value: str,
    *,
    doc: str = "X datasheet",
    kind: DocKind = DocKind.DATASHEET,
    dim: str | None = None,
) -> SpecAttribute:
    q = parse_quantity(value, dimension=dim) if dim else None
    src = AttributeSource(
        value=value, value_si=q.value if q else None, document_title=doc, document_kind=kind
    )
    return SpecAttribute(
        name=name,
        label=name.capitalize(),
        value=value,
        dimension=dim,
        value_si=q.value if q else None,
        value_si_max=q.value_max if q else None,
        source=src,
        sources=[src],
        marketing_only=kind is DocKind.MARKETING,
    )


def _sheet(sku: str, *attrs: SpecAttribute) -> SpecSheet:
    return SpecSheet(
        product=ProductSummary(sku=sku, name=f"{sku} box", family="gearbox"),
        attributes=list(attrs),
        conflicts=[],
        documents=[DocumentInfo(title=f"{sku} datasheet", kind=DocKind.DATASHEET, ref=f"{sku}.pdf")],
        evidence="technical",
    )


def test_compare_rows_normalise_units_and_count_a_missing_value_as_a_difference() -> None:
    a = _sheet(
        "A-1",
        _attr("voltage", "400 V", dim="voltage"),
        _attr("material", "Stainless steel"),
        _attr("torque", "1 kN·m", dim="torque"),
    )
    b = _sheet("B-1", _attr("voltage", "0.4 kV", dim="voltage"), _attr("material", "stainless  steel"))
    rows = {r.attribute: r for r in compare_rows([a, b])}
    assert [r.attribute for r in compare_rows([a, b])] == ["voltage", "material", "torque"]
    assert rows["voltage"].values == ["400 V", "0.4 kV"] and not rows["voltage"].differs  # same in SI
    assert not rows["material"].differs  # case and spacing do not count
    assert rows["torque"].values == ["1 kN·m", None] and rows["torque"].differs
    c = _sheet("C-1", _attr("voltage", "230 V", dim="voltage"))
    assert {r.attribute: r.differs for r in compare_rows([a, c])}["voltage"] is True


def test_key_points_prefer_figures_and_keep_document_order() -> None:
    body = (
        "---\nsku: X\n---\n# Manual\n\nWelcome to your new gearbox.\nIt is painted blue.\n"
        "- Rated torque: 220 N·m\n\nNever exceed 3000 r/min. Thank you for choosing us.\n"
        "Check the oil level every 10,000 h.\nWe hope you enjoy it.\n"
    )
    assert key_points(body, limit=3) == [
        "Rated torque: 220 N·m",
        "Never exceed 3000 r/min.",
        "Check the oil level every 10,000 h.",
    ]
    assert key_points("", limit=3) == []


def test_packet_constraints_skip_what_the_catalog_cannot_check() -> None:
    packet = HandoffPacket.model_validate(
        {
            "reason": "complexity",
            "summary": "s",
            "constraints": [
                {"name": "torque", "value": "> 180", "unit": "N·m"},
                {"name": "torque", "value": ">= plenty"},
                {"name": "colour of the paint", "value": "blue"},
                {"name": "ip", "value": "IP66"},
            ],
        }
    )
    parsed, skipped = packet_constraints(packet)
    assert [c.describe() for c in parsed] == ["torque > 180 N·m", "ip = IP66"]
    assert len(skipped) == 2
    assert skipped[0].startswith("torque >= plenty (") and "no attribute 'colour_of_the_paint'" in skipped[1]


def test_check_constraint_and_the_template_draft_cite_what_they_state() -> None:
    sheet = _sheet("GX-9", _attr("torque", "220 N·m", dim="torque"), _attr("ip", "IP65", dim="ip"))
    assert check_constraint(parse_constraint("torque>=200Nm"), sheet)[0] == "meets"
    assert check_constraint(parse_constraint("torque>=230Nm"), sheet)[0] == "fails"
    assert check_constraint(parse_constraint("voltage>=400V"), sheet) == ("unknown", None)
    packet = HandoffPacket.model_validate(
        {
            "reason": "complexity",
            "summary": "s",
            "goal": "Replace a gearbox",
            "unresolved": [{"text": "Price"}],
        }
    )
    text, cites = template_draft(
        packet, DraftFacts(sheets=[sheet], missing=["GX-0"]), [parse_constraint("torque>=230Nm")], []
    )
    assert "You're looking to replace a gearbox." in text
    assert "GX-9 (GX-9 box): torque 220 N·m; ip IP65 (per the X datasheet)." in text
    assert "It does not meet torque ≥ 230 N·m (220 N·m)." in text
    assert "I couldn't find GX-0 in our catalog" in text and "Still open: Price." in text
    assert [(c.sku, c.title) for c in cites] == [("GX-9", "X datasheet")]


def test_facts_check_and_sources_list() -> None:
    draft = "GX-220 gives 220 N·m at 400 V."
    assert keeps_facts(draft, "Good news: the GX-220 gives 220 N·m at 400 V!")
    assert not keeps_facts(draft, "Good news: the GX-220 is strong enough.")
    assert not keeps_facts(draft, "It gives 220 N·m at 400 V.")  # the SKU went missing
    cites = [Citation(sku="A", title="A datasheet", kind="datasheet", ref="a.pdf"), Citation(title="Notes")]
    assert with_sources("Body", cites) == "Body\n\nSources:\n- A datasheet (datasheet) [a.pdf]\n- Notes"
    assert with_sources("Body", []).endswith("Sources: none (no catalog document backs this).")


def test_a_verdict_source_is_cited_by_the_documents_full_title() -> None:
    docs = [
        ("GX-240 operating manual (rev. B)", "manual", "m.md"),
        ("GX-240 datasheet", "datasheet", "p.jsonl"),
    ]
    cites = _Cites()
    _cite_source(cites, "GX-240", "GX-240 operating manual (rev. B) (manual); sources disagree", docs)
    _cite_source(cites, "GX-240", "GX-240 datasheet (datasheet)", docs)
    _cite_source(cites, "GX-9", "Old sheet (datasheet)", [])  # unknown document: read from the text
    assert [(c.title, c.kind, c.ref) for c in cites.items] == [
        ("GX-240 operating manual (rev. B)", "manual", "m.md"),
        ("GX-240 datasheet", "datasheet", "p.jsonl"),
        ("Old sheet", "datasheet", ""),
    ]
