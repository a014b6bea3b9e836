"""Ingest refuses what a database cannot hold or a lookup cannot show (issue 19 items 5 and 7).

Non-finite and out-of-range numbers, text over a column's width, NUL characters and SKUs
that are one SKU once case and punctuation are ignored: each a bad row listed as
``file:line: column: reason``, the same on SQLite and PostgreSQL, nothing written. Values
stored before these checks (an infinite torque) do not break spec sheets or lookups.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, update

from warmline.catalog import tables as t
from warmline.catalog.ingest import IngestError, ingest_path
from warmline.catalog.service import CatalogService, make_engine
from warmline.cli import main

NINES = "9" * 400


async def _count(engine) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(t.products)))


async def _refused(engine, folder: Path) -> list[str]:
    with pytest.raises(IngestError) as info:
        await ingest_path(engine, folder)
    assert await _count(engine) == 0
    return info.value.errors


async def test_numbers_out_of_range_are_bad_rows(engine, tmp_path: Path) -> None:
    folder = tmp_path / "nums"
    folder.mkdir()
    (folder / "a.csv").write_text(
        "sku,name,family,torque [N·m],power\n"
        f"N-1,Nines,gearbox,{NINES},1 kW\n"
        "N-2,Huge power,gearbox,100,999999999999999999 MW\n"
        "N-3,Fine,gearbox,100,1 kW\n",
        encoding="utf-8",
    )
    # JSON numbers that Python reads as inf / nan, and a 400-digit integer
    (folder / "b.jsonl").write_text(
        '{"sku": "J-1", "name": "J1", "family": "pump", '
        '"attributes": {"flow": {"value": NaN, "unit": "l/min"}}}\n'
        '{"sku": "J-2", "name": "J2", "family": "pump", '
        '"attributes": {"flow": {"value": 1e999, "unit": "l/min"}}}\n'
        '{"sku": "J-3", "name": "J3", "family": "pump", "attributes": {"pressure": -Infinity}}\n'
        f'{{"sku": "J-4", "name": "J4", "family": "pump", "attributes": {{"flow": {NINES}}}}}\n',
        encoding="utf-8",
    )
    errors = await _refused(engine, folder)
    cut = repr(NINES[:60]) + "… (400 characters)"
    assert errors == [
        f"a.csv:2: torque [N·m]: {cut} is out of range (a number with more than 18 digits)",
        "a.csv:3: power: '999999999999999999 MW' is out of range (at most 1e+15 in SI units)",
        "b.jsonl:1: attributes.flow: nan is not a finite number",
        "b.jsonl:2: attributes.flow: inf is not a finite number",
        "b.jsonl:3: attributes.pressure: -inf is not a finite number",
        f"b.jsonl:4: attributes.flow: {cut} is out of range (a number with more than 18 digits)",
    ]


async def test_text_a_column_cannot_hold_is_a_bad_row(engine, tmp_path: Path) -> None:
    folder = tmp_path / "text"
    deep = folder / ("d" * 150) / ("e" * 150)
    deep.mkdir(parents=True)
    maker = "m" * 201
    (folder / "a.csv").write_text(
        "sku,name,family,manufacturer,material\n"
        f"T-1,Long maker,gearbox,{maker},steel\n"
        "T-2,Nul\x00name,gearbox,Acme,steel\n"
        "T-3,Nul cell,gearbox,Acme,st\x00eel\n"
        "T-4,Fine,gearbox,Acme,steel\n",
        encoding="utf-8",
    )
    (deep / "b.csv").write_text("sku,name,family\nP-1,Deep,gearbox\n", encoding="utf-8")
    (folder / "T-4__datasheet.md").write_text("# T-4\nRated torque: 1\x00 N·m\n", encoding="utf-8")
    (folder / "c.jsonl").write_text(
        json.dumps(
            {
                "sku": "J-1",
                "name": "J",
                "family": "pump",
                "documents": [{"kind": "manual", "title": "m", "text": "a\x00b"}],
                "relations": [{"kind": "accessory_of", "sku": "T-4", "note": "n\x00"}],
            }
        )
        + "\n",
        encoding="utf-8",
    )
    errors = await _refused(engine, folder)
    not_text = "contains a NUL character or a lone surrogate (not text)"
    long_path = f"{'d' * 150}/{'e' * 150}/b.csv"
    assert errors == [
        "T-4__datasheet.md:1: text: " + not_text,
        "a.csv:2: manufacturer: longer than 200 characters",
        "a.csv:3: name: " + not_text,
        "a.csv:4: material: " + not_text,
        "c.jsonl:1: documents[0].text: " + not_text,
        "c.jsonl:1: relations[0].note: " + not_text,
        f"{long_path[:80]}… ({len(long_path)} characters):1: path: longer than 300 characters",
    ]


async def test_skus_that_are_one_sku_are_refused(engine, tmp_path: Path) -> None:
    folder = tmp_path / "dup"
    folder.mkdir()
    (folder / "a.csv").write_text(
        "sku,name,family\nDC-1,a,gearbox\ndc-1,b,gearbox\nDC 1,c,gearbox\nDC-2,d,gearbox\n", encoding="utf-8"
    )
    errors = await _refused(engine, folder)
    assert errors == [
        "a.csv:3: sku: 'dc-1' is the same SKU as 'DC-1' (at a.csv:2) once case and punctuation are ignored",
        "a.csv:4: sku: 'DC 1' is the same SKU as 'DC-1' (at a.csv:2) once case and punctuation are ignored",
    ]
    # against the catalog: DC-1 is in; a later file naming dc.1 is refused, DC-1 itself updates
    (folder / "a.csv").write_text("sku,name,family\nDC-1,a,gearbox\n", encoding="utf-8")
    await ingest_path(engine, folder)
    (folder / "a.csv").write_text("sku,name,family\ndc.1,b,gearbox\n", encoding="utf-8")
    with pytest.raises(IngestError) as info:
        await ingest_path(engine, folder)
    assert info.value.errors == [
        "a.csv:2: sku: 'dc.1' is the same SKU as 'DC-1' (in the catalog) "
        "once case and punctuation are ignored"
    ]
    (folder / "a.csv").write_text("sku,name,family\nDC-1,renamed,gearbox\n", encoding="utf-8")
    report = await ingest_path(engine, folder)
    assert report.products_updated == 1
    assert (await CatalogService(engine).get_product("dc 1")).name == "renamed"


async def test_values_stored_before_the_checks_do_not_break_lookups(
    database_url: str, tmp_path: Path, agent_client
) -> None:
    """A torque of 1e400 (inf) and NaN already in the table: spec sheet 200, no number shown."""
    from warmline.storage.migrate import upgrade

    await upgrade(database_url)
    engine = make_engine(database_url)
    try:
        folder = tmp_path / "in"
        folder.mkdir()
        (folder / "a.csv").write_text(
            "sku,name,family,torque [N·m],ip\nHU-1,Huge,gearbox,100,IP65\nHU-2,Other,gearbox,120,IP65\n",
            encoding="utf-8",
        )
        (folder / "HU-1__manual.md").write_text("# HU-1\n- Rated torque: 150 N·m\n", encoding="utf-8")
        await ingest_path(engine, folder)
        a = t.attributes
        async with engine.begin() as conn:
            await conn.execute(
                update(a)
                .where(a.c.name == "torque", a.c.source_kind == "table")
                .values(value_lo=float("inf"), value_hi=float("inf"), value_text=NINES)
            )
            await conn.execute(
                update(a)
                .where(a.c.name == "torque", a.c.source_kind == "manual")
                .values(value_hi=float("nan"))
            )
        svc = CatalogService(engine)
        sheet = await svc.spec_sheet("HU-1")
        torque = next(x for x in sheet.attributes if x.name == "torque")
        assert torque.value == NINES and torque.value_si is None
        json.dumps(sheet.model_dump(mode="json"), allow_nan=False)
        subs = await svc.substitutes("HU-2", ["torque>=100Nm"])
        assert [c.product.sku for c in subs] == ["HU-1"]
        assert subs[0].verdicts[-1].verdict.value == "unknown"
        assert await svc.search("huge torque>=100Nm") is not None
    finally:
        await engine.dispose()
    async with agent_client(database_url) as c:
        r = await c.get("/v1/catalog/products/HU-1")
        assert r.status_code == 200, r.text
        assert {x["name"]: x["value_si"] for x in r.json()["attributes"]}["torque"] is None


def test_cli_lists_an_overflowing_value_instead_of_a_traceback(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cat.db'}"
    bad = tmp_path / "bad.csv"
    bad.write_text(f"sku,name,family,torque [N·m]\nX-1,Thing,gearbox,{NINES}\n", encoding="utf-8")
    res = CliRunner().invoke(main, ["catalog", "ingest", str(bad), "--database-url", url])
    assert res.exit_code == 1
    assert "bad.csv:2: torque [N·m]: " in res.output and "out of range" in res.output
    assert "Traceback" not in res.output and "nothing was written" in res.output
