"""The real bearing tables (shared/data/bearings) through resources/mappings/bearings.toml."""

from __future__ import annotations

from pathlib import Path

from warmline.catalog.ingest import collect, ingest_path
from warmline.catalog.service import CatalogService
from warmline.resources import resource_path

MAPPING = resource_path("mappings", "bearings.toml")


def test_mapping_reads_the_foreign_tables_without_errors(bearing_tables: Path) -> None:
    col = collect(bearing_tables, mapping=MAPPING)
    assert col.errors == []
    assert len(col.products) == 9 + 25 + 9 + 31 + 27  # every data row of the five tables
    p625 = col.products["625"]  # "* 625" in the table: popular size marker stripped from the SKU
    attrs = {a.name: a.value_text for a in p625.attributes}
    assert attrs["popular_size"] == "yes" and attrs["seal"] == "open"
    assert (attrs["bore"], attrs["outer_diameter"], attrs["width"]) == ("5 mm", "16 mm", "5 mm")
    # "–" means missing: the 630/8-2RS1 has no reference speed, and no row was refused for it
    capped = {a.name: a.value_text for a in col.products["630/8-2RS1"].attributes}
    assert "reference_speed" not in capped and capped["limiting_speed"] == "22000 r/min"
    assert capped["seal"] == "2RS1"
    # a row without a designation gets a SKU built from its series and size
    assert col.products["ACBB M12-37-12"].name == "Angular contact ball bearing ACBB M12-37-12"
    # tapered tables repeat "SKT:C": the first one is the load rating, T is the width
    tapered = {a.name: a.value_text for a in col.products["30302 J2"].attributes}
    assert (tapered["dynamic_load"], tapered["width"]) == ("22.4 kN", "14.25 mm")


async def test_dimensional_substitutes(engine, bearing_tables: Path) -> None:
    report = await ingest_path(engine, bearing_tables, mapping=MAPPING)
    assert report.products_created == 101
    svc = CatalogService(engine)

    for_open = await svc.substitutes("608", [])
    assert [c.product.sku for c in for_open] == ["E2.608-2Z"]
    cand = for_open[0]
    dims = {
        v.attribute: (v.verdict, v.actual)
        for v in cand.verdicts
        if v.attribute in ("bore", "outer_diameter", "width")
    }
    assert dims == {
        "bore": ("meets", "8 mm"),
        "outer_diameter": ("meets", "22 mm"),
        "width": ("meets", "7 mm"),
    }
    assert "same bore, outer diameter, width as 608" in cand.why
    load = next(v for v in cand.verdicts if v.attribute == "dynamic_load")
    assert (load.verdict, load.actual, load.wanted) == ("fails", "3.32 kN", "3.45 kN")  # shown, not hidden

    for_capped = await svc.substitutes("E2.608-2Z", [])
    assert [c.product.sku for c in for_capped] == ["608"]

    # same bore and OD but 11 mm wide, or another bore: never proposed
    all_for_608 = {c.product.sku for c in await svc.substitutes("608", [], limit=100)}
    assert "630/8-2RS1" not in all_for_608 and "627" not in all_for_608 and "609" not in all_for_608

    # asking for a sealed bearing: the capped one meets it, with the value shown
    sealed = await svc.substitutes("608", ["seal:2Z"])
    assert sealed[0].verdicts[-1].verdict == "meets" and sealed[0].verdicts[-1].actual == "2Z"

    # a typed constraint on another bearing: bore 10 mm, at least 5 kN dynamic load
    hits = await svc.search("family:bearing bore=10mm dynamic_load>=5kN")
    assert {h.sku for h in hits} == {"16100", "6200", "6300", "7200 BECBP"}
