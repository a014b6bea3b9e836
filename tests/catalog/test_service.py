"""Lookups on the demo catalog: spec sheets and conflicts, substitutes with verdicts, search, accessories."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from warmline.catalog import tables as t
from warmline.catalog.demo import demo_dir, demo_records, ensure_demo_catalog
from warmline.catalog.service import CatalogService, ProductNotFound, make_engine
from warmline.catalog.units import ConstraintError
from warmline.domain.packet import Constraint as PacketConstraint


@pytest.fixture
async def demo(database_url: str):
    """The demo catalog loaded (the same call the demo workspace makes)."""
    assert await ensure_demo_catalog(database_url) is True
    assert await ensure_demo_catalog(database_url) is False  # already there: a no-op
    engine = make_engine(database_url)
    try:
        yield CatalogService(engine)
    finally:
        await engine.dispose()


def test_demo_files_are_what_the_generator_writes() -> None:
    shipped = (demo_dir() / "products.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in shipped] == demo_records()
    families = {r["family"] for r in demo_records()}
    assert families == {
        "gearbox",
        "gearmotor",
        "pump",
        "pneumatic_fitting",
        "valve",
        "connector",
        "cable",
        "sensor",
        "bearing",
    }
    with_datasheet = [r for r in demo_records() if any(d["kind"] == "datasheet" for d in r["documents"])]
    assert len(with_datasheet) >= 2000


async def test_gx_spec_sheets(demo: CatalogService) -> None:
    gx240 = await demo.spec_sheet("GX-240")
    values = {a.name: a.value for a in gx240.attributes}
    assert values["voltage"] == "400 V" and values["ip"] == "IP66" and values["washdown"] == "yes"
    torque = next(a for a in gx240.attributes if a.name == "torque")
    assert torque.conflict and torque.value == "240 N·m" and torque.source.document_kind == "datasheet"
    assert [c.attribute for c in gx240.conflicts] == ["torque"]
    assert {s.value for s in gx240.conflicts[0].values} == {"240 N·m", "250 N·m"}
    assert gx240.evidence == "technical"
    for sku in ("GX-220", "GX-240"):
        sheet = await demo.spec_sheet(sku)
        assert "mounting" not in {a.name for a in sheet.attributes}  # deliberately unknown
    async with demo.engine.connect() as conn:
        bodies = (
            (
                await conn.execute(
                    select(t.documents.c.body)
                    .join(t.products)
                    .where(t.products.c.sku.in_(["GX-220", "GX-240"]))
                )
            )
            .scalars()
            .all()
        )
    assert bodies and not any("mounting" in b.lower() or "flange" in b.lower() for b in bodies)

    old = await demo.spec_sheet("gx180")  # case and punctuation do not matter
    assert old.product.sku == "GX-180" and old.product.status == "superseded"
    assert old.supersession_chain == ["GX-200", "GX-220"]

    hype = await demo.spec_sheet("MK-PU-000")
    assert hype.evidence == "marketing_only" and all(a.marketing_only for a in hype.attributes)


async def test_substitutes_follow_supersession_and_give_verdicts(demo: CatalogService) -> None:
    cands = await demo.substitutes("GX-180", ["torque>=180Nm", "ip>=65", "voltage:400V", "washdown:yes"])
    # the chain GX-180 -> GX-200 (discontinued) -> GX-220: the current successor first
    assert cands[0].product.sku == "GX-220" and cands[0].via_supersession
    assert "GX-180 -> GX-200 -> GX-220" in cands[0].why
    assert "GX-200" not in [c.product.sku for c in cands]  # discontinued, not asked for
    verdicts = {v.attribute: (v.verdict, v.actual) for v in cands[0].verdicts if not v.implicit}
    assert verdicts == {
        "torque": ("meets", "220 N·m"),
        "ip": ("meets", "IP65"),
        "voltage": ("meets", "400 V"),
        "washdown": ("meets", "yes"),
    }
    assert all(c.product.status == "active" for c in cands)
    for c in cands[1:]:
        asked = [v for v in c.verdicts if not v.implicit]
        assert all(v.verdict == "meets" for v in asked), c

    with_old = await demo.substitutes("GX-180", ["torque>=180Nm"], include_discontinued=True, limit=40)
    assert [c.product.sku for c in with_old[:2]] == ["GX-220", "GX-200"]
    assert "itself superseded" in with_old[1].why

    # a constraint nothing in the chain meets is shown as failing, with the values compared
    strict = await demo.substitutes("GX-220", ["torque>=0.3kN·m", "ip>=66"], limit=5)
    for c in strict:
        t_verdict = next(v for v in c.verdicts if v.attribute == "torque" and not v.implicit)
        assert t_verdict.wanted == "300 N·m"
        assert t_verdict.verdict == "meets"
    gx240 = await demo.substitutes("GX-220", [PacketConstraint(name="torque", value="> 230", unit="N·m")])
    assert gx240[0].product.sku == "GX-240"
    assert "sources disagree on torque" in gx240[0].confidence_note

    with pytest.raises(ConstraintError) as info:
        await demo.substitutes("GX-220", ["torque>=lots"])
    assert info.value.part == "lots"


async def test_atex_fittings_and_search(demo: CatalogService) -> None:
    atex = await demo.search("family:pneumatic_fitting atex>=2G", limit=200)
    assert len(atex) == 60 and all(h.sku.startswith("PF-EX-") for h in atex)
    plain = await demo.search("family:pneumatic_fitting push-in fitting", limit=200)
    assert any(h.sku.startswith("PF-ST-") for h in plain)

    sub = await demo.substitutes(atex[0].sku, ["atex>=II 2G"], limit=10)
    verdicts = [next(v for v in c.verdicts if v.attribute == "atex").verdict for c in sub]
    assert verdicts[0] == "meets" and verdicts == sorted(verdicts, key=["meets", "unknown", "fails"].index)
    for c, verdict in zip(sub, verdicts, strict=True):
        # certified fittings meet it; a standard one with the same thread and tube is only "unknown"
        assert c.product.sku.startswith("PF-EX-" if verdict == "meets" else "PF-ST-")

    hits = await demo.search("washdown gearbox family:gearbox voltage:400V ip>=65 torque>=180Nm")
    skus = [h.sku for h in hits]
    assert {"GX-220", "GX-240"} <= set(skus)
    assert all(0 <= h.score <= 1 for h in hits)
    top = await demo.search("GX-240")
    assert top[0].sku == "GX-240" and top[0].score == 1.0
    coolant = await demo.search("coolant pump", limit=10)
    assert coolant and all(h.family == "pump" for h in coolant)
    # text plus a range filter: every hit really meets it (checked against its spec sheet)
    strong = await demo.search("coolant pump flow>=40l/min", limit=30)
    assert strong
    for h in strong:
        flow = next(a for a in (await demo.spec_sheet(h.sku)).attributes if a.name == "flow")
        assert flow.value_si >= 40 / 60000 - 1e-12, (h.sku, flow.value)
    gx = await demo.search("washdown torque>=230Nm ip>=66")
    assert "GX-240" in [h.sku for h in gx] and "GX-220" not in [h.sku for h in gx]
    cert = await demo.search("EU declaration of conformity ATEX", limit=5)
    assert cert[0].doc_kind == "certificate"
    with pytest.raises(ConstraintError):
        await demo.search("torque>=plenty")


async def test_accessories_and_not_found(demo: CatalogService) -> None:
    acc = await demo.accessories("GX-220")
    assert [a.product.sku for a in acc if a.relation == "compatible_with"] == [
        "GM-018-000",
        "GM-075-002",
        "GM-400-001",
    ]
    assert any(a.relation == "family_rule" and a.product.family == "gearmotor" for a in acc)
    cable = next(r for r in demo_records() if r["family"] == "cable" and r.get("relations"))
    sensor = cable["relations"][0]["sku"]
    cables = [a for a in await demo.accessories(sensor) if a.relation == "accessory_of"]
    assert cable["sku"] in [a.product.sku for a in cables]
    assert all(a.product.family == "cable" and a.note == "M12 4-pin sensor cable" for a in cables)

    with pytest.raises(ProductNotFound) as info:
        await demo.spec_sheet("GX-230")
    assert info.value.closest[:2] == ["GX-220", "GX-240"] or set(info.value.closest[:4]) >= {
        "GX-220",
        "GX-240",
    }
    assert await demo.get_product("nope-nope") is None
    assert (await demo.get_product("gx 220")).sku == "GX-220"
