"""Ingest: good files of every format, bad files refused with every error, no partial writes, upserts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from warmline.catalog import tables as t
from warmline.catalog.ingest import IngestError, ingest_path
from warmline.catalog.service import CatalogService

PRODUCTS_CSV = """sku,name,family,manufacturer,status,superseded_by,torque [N·m],ip,voltage,washdown
TB-100,Test gearbox 100,gearbox,Acme,discontinued,TB-200,100,IP54,400 V,no
TB-200,Test gearbox 200,gearbox,Acme,active,,0.2 kN·m,IP66,400 V,yes
"""

PRODUCTS_JSONL = [
    {
        "sku": "TP-1",
        "name": "Test pump",
        "family": "pump",
        "attributes": {"flow": "1.2 m³/h", "medium": "coolant"},
        "documents": [
            {"kind": "datasheet", "title": "TP-1 datasheet", "text": "# TP-1\n- Flow rate: 20 l/min\n"}
        ],
    },
    {
        "sku": "TC-1",
        "name": "Test cable",
        "family": "cable",
        "attributes": [{"name": "length", "value": 5, "unit": "m"}],
        "relations": [{"kind": "accessory_of", "sku": "TB-200", "note": "motor cable"}],
    },
]

PRODUCTS_JSON = [{"sku": "TS-1", "name": "Test sensor", "family": "sensor", "attributes": {"ip": "IP67"}}]

MANUAL = """---
sku: TB-200
kind: manual
title: TB-200 manual
---
# TB-200 manual

| Attribute | Value |
|---|---|
| Rated torque | 210 N·m |
"""


def _minimal_pdf(*lines: str) -> bytes:
    """A one-page PDF with these lines in Helvetica (hand-built, so no PDF writer is needed)."""
    shown = " T* ".join(f"({line}) Tj" for line in lines)
    stream = f"BT /F1 12 Tf 14 TL 72 720 Td {shown} ET".encode()
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objs, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def _write_good(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "a_products.csv").write_text(PRODUCTS_CSV, encoding="utf-8")
    (folder / "b_more.jsonl").write_text(
        "\n".join(json.dumps(r) for r in PRODUCTS_JSONL) + "\n", encoding="utf-8"
    )
    (folder / "c_sensors.json").write_text(json.dumps(PRODUCTS_JSON, indent=2), encoding="utf-8")
    docs = folder / "docs"
    docs.mkdir()
    (docs / "manual.md").write_text(MANUAL, encoding="utf-8")
    (docs / "TS-1__certificate.pdf").write_bytes(_minimal_pdf("Declaration of conformity", "IP rating: IP68"))
    (docs / "TS-1__marketing.txt").write_text("Best sensor ever.\nIP rating: IP69K\n", encoding="utf-8")
    return folder


async def _counts(engine) -> dict[str, int]:
    async with engine.connect() as conn:
        return {
            name: await conn.scalar(select(func.count()).select_from(table))
            for name, table in [
                ("products", t.products),
                ("attributes", t.attributes),
                ("documents", t.documents),
                ("relations", t.relations),
                ("search", t.search),
            ]
        }


async def test_good_files_load_and_read_back(engine, tmp_path: Path) -> None:
    report = await ingest_path(engine, _write_good(tmp_path / "in"))
    assert (report.products_created, report.products_updated) == (5, 0)
    assert report.files == 6 and report.documents == 4 and report.relations == 1
    svc = CatalogService(engine)

    tb = await svc.spec_sheet("TB-200")
    torque = next(a for a in tb.attributes if a.name == "torque")
    assert torque.value == "200 N·m" and torque.source.document_kind == "table"
    assert torque.conflict and {s.value for s in torque.sources} == {"200 N·m", "210 N·m"}
    assert [c.attribute for c in tb.conflicts] == ["torque"]
    assert "TB-200 manual" in tb.conflicts[0].note
    assert any(r.sku == "TC-1" and r.kind == "accessory_of" and r.direction == "in" for r in tb.relations)

    old = await svc.spec_sheet("TB-100")
    assert old.product.status == "superseded" and old.supersession_chain == ["TB-200"]

    pump = await svc.spec_sheet("TP-1")
    flow = next(a for a in pump.attributes if a.name == "flow")
    assert not flow.conflict and flow.value == "20 l/min"  # 1.2 m³/h and 20 l/min agree

    sensor = await svc.spec_sheet("TS-1")
    kinds = {d.kind for d in sensor.documents}
    assert kinds == {"certificate", "marketing"}
    ip = next(a for a in sensor.attributes if a.name == "ip")
    assert ip.conflict  # table IP67, certificate (PDF) IP68, marketing IP69K
    assert [s.document_kind for s in ip.sources] == ["table", "certificate", "marketing"]
    assert (await svc.search("declaration conformity"))[0].sku == "TS-1"


async def test_reingest_is_idempotent_and_upserts(engine, tmp_path: Path) -> None:
    folder = _write_good(tmp_path / "in")
    await ingest_path(engine, folder)
    before = await _counts(engine)
    again = await ingest_path(engine, folder)
    assert (again.products_created, again.products_updated) == (0, 5)
    assert await _counts(engine) == before

    (folder / "a_products.csv").write_text(
        PRODUCTS_CSV.replace("Test gearbox 200", "Test gearbox 200 mk2").replace("0.2 kN·m", "250"),
        encoding="utf-8",
    )
    await ingest_path(engine, folder / "a_products.csv")
    assert await _counts(engine) == before
    sheet = await CatalogService(engine).spec_sheet("TB-200")
    assert sheet.product.name == "Test gearbox 200 mk2"
    assert next(a for a in sheet.attributes if a.name == "torque").value == "250 N·m"
    assert any(d.title == "TB-200 manual" for d in sheet.documents)  # other files' documents are kept


BAD_CSV = """sku,name,family,status,torque [N·m],ip
OK-1,Fine gearbox,gearbox,active,100,IP65
BAD-1,Bad family,spaceship,active,100,IP65
BAD-2,,gearbox,active,lots,IP65
BAD-3,Bad ip,gearbox,retired,100,IP6
OK-1,Duplicate,gearbox,active,100,IP65
"""


async def test_bad_files_are_refused_with_every_error_and_nothing_written(engine, tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "bad.csv").write_text(BAD_CSV, encoding="utf-8")
    (folder / "bad.jsonl").write_text(
        json.dumps({"sku": "J-1", "name": "J", "family": "pump", "superseded_by": "NOPE-9"}) + "\n"
        "{not json\n"
        + json.dumps({"sku": "J-2", "name": "J2", "family": "pump", "attributes": {"flow": "20 furlongs"}})
        + "\n",
        encoding="utf-8",
    )
    (folder / "NOPE-1__datasheet.md").write_text("# Nope\n- Flow rate: 1 l/min\n", encoding="utf-8")
    with pytest.raises(IngestError) as info:
        await ingest_path(engine, folder)
    assert info.value.errors == [
        "bad.csv:3: family: unknown family 'spaceship' (known: gearbox, gearmotor, pump, pneumatic_fitting, "
        "valve, connector, cable, sensor, bearing)",
        "bad.csv:4: torque [N·m]: 'lots' is not a number in N·m",
        "bad.csv:4: name: missing",
        "bad.csv:5: ip: 'IP6' is not read as ip (ip): "
        "not an IP rating (IP followed by two digits, e.g. IP65)",
        "bad.csv:5: status: 'retired' is not one of active, discontinued, superseded",
        "bad.csv:6: sku: 'OK-1' appears twice in this run (first at bad.csv:2)",
        "bad.jsonl:2: json: not valid JSON (Expecting property name enclosed in double quotes at column 2)",
        "bad.jsonl:3: attributes.flow: '20 furlongs' is not read as flow (l/min): unknown unit 'furlongs'",
        "bad.jsonl:1: superseded_by: unknown SKU 'NOPE-9'",
        "NOPE-1__datasheet.md:1: sku: unknown SKU 'NOPE-1' (ingest its product first, or in the same run)",
    ]
    assert await _counts(engine) == {
        "products": 0,
        "attributes": 0,
        "documents": 0,
        "relations": 0,
        "search": 0,
    }


async def test_a_refused_reingest_leaves_the_catalog_as_it_was(engine, tmp_path: Path) -> None:
    folder = _write_good(tmp_path / "in")
    await ingest_path(engine, folder)
    before = await _counts(engine)
    sheet_before = await CatalogService(engine).spec_sheet("TB-200")
    (folder / "a_products.csv").write_text(
        PRODUCTS_CSV.replace("Test gearbox 200", "Renamed").replace("IP54", "IP5"), encoding="utf-8"
    )
    with pytest.raises(IngestError) as info:
        await ingest_path(engine, folder)
    assert info.value.errors == [
        "a_products.csv:2: ip: 'IP5' is not read as ip (ip): "
        "not an IP rating (IP followed by two digits, e.g. IP65)"
    ]
    assert await _counts(engine) == before
    assert await CatalogService(engine).spec_sheet("TB-200") == sheet_before
