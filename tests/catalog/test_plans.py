"""Every plan the catalog can pick answers exactly what the plain scans answer.

The plans (CatalogService._force): "scan" = the plain scans, which are the lookups as
they were before the selectivity-based plans (FTS checking every match; value walks
checking every row); "driver" = start from the rare filters' index rows; "walk" = value
walks that jump over ranges a constraint on the walked attribute rules out; None = chosen
by how many index rows each filter lists. Results (ranking, scores, verdicts, snippets)
must be identical, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, insert, inspect, select, text

from warmline.catalog import tables as t
from warmline.catalog.demo import ensure_demo_catalog
from warmline.catalog.ingest import ingest_path
from warmline.catalog.service import CatalogService, make_engine
from warmline.catalog.units import Constraint, parse_constraint
from warmline.resources import resource_path
from warmline.storage.migrate import upgrade

PLANS = (None, "driver", "walk")

SEARCHES = [
    "gearbox family:gearbox torque>=180Nm ip>=65",
    "pump flow>=40l/min",
    "valve pressure>=10bar",
    "family:sensor ip>=67",
    "fitting atex>=2G",
    "cable length>=5m",
    "bearing bore=20mm",
    "family:pneumatic_fitting atex>=2G",
    "fitting atex>=2G thread:G1/4",
    "push-in fitting tube_od=8mm pressure>=16bar",
    "washdown torque>=230Nm ip>=66",
    "washdown:yes torque>=230Nm",
    "family:gearbox voltage:400V ip>=66",
    "coolant pump flow>=100l/min",
    "pump temperature>=60°C",
    "sensor voltage:24V",
    "connector current>=4A poles=3",
    "family:cable length>=20m",
    "torque<=100Nm",
    "GX-240 ip>=66",
    "EU declaration of conformity ATEX",
    "stainless",
]
CONSTRAINTS = {
    "gearbox": ["torque>=180Nm", "ip>=65", "voltage:400V"],
    "gearmotor": ["power>=0.5kW", "ip>=55"],
    "pump": ["flow>=20l/min", "temperature>=60°C"],
    "pneumatic_fitting": ["pressure>=10bar"],
    "valve": ["pressure>=8bar", "ip>=65"],
    "connector": ["current>=4A"],
    "cable": ["length>=5m"],
    "sensor": ["ip>=67", "sensing_range>=8mm"],
    "bearing": ["dynamic_load>=5kN"],
}


def _dump(items: list[Any]) -> list[dict[str, Any]]:
    return [i.model_dump(mode="json") for i in items]


async def _same_under_every_plan(svc: CatalogService, call: Any) -> list[dict[str, Any]]:
    svc._force = "scan"
    try:
        reference = _dump(await call())
        for plan in PLANS:
            svc._force = plan
            assert _dump(await call()) == reference, f"plan {plan!r} differs from the plain scans"
    finally:
        svc._force = None
    return reference


def _statements(svc: CatalogService) -> list[str]:
    seen: list[str] = []
    event.listen(svc.engine.sync_engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    return seen


@pytest.fixture
async def demo(database_url: str):
    assert await ensure_demo_catalog(database_url) is True
    engine = make_engine(database_url)
    try:
        yield CatalogService(engine)
    finally:
        await engine.dispose()


async def test_demo_searches_are_the_same_under_every_plan(demo: CatalogService) -> None:
    total = 0
    for q in SEARCHES:
        for limit in (20, 5, 100):
            total += len(
                await _same_under_every_plan(demo, lambda q=q, limit=limit: demo.search(q, limit=limit))
            )
    assert total > 1000  # the queries find things: the comparison is not between empty lists

    if demo.dialect == "sqlite":  # the rare-filter plan is really taken (FTS checks a short id list)
        sql = _statements(demo)
        hits = await demo.search("fitting atex>=2G", limit=200)
        assert hits and all(h.sku.startswith("PF-EX-") for h in hits)
        assert any("+catalog_fts.rowid IN (" in s for s in sql)


async def test_demo_substitutes_are_the_same_under_every_plan(demo: CatalogService) -> None:
    async with demo.engine.connect() as conn:
        rows = (
            await conn.execute(select(t.products.c.sku, t.products.c.family).order_by(t.products.c.id))
        ).all()
    sample = rows[::90] + [r for r in rows if r.sku in ("GX-180", "GX-220", "GX-240")]
    total = 0
    for sku, family in sample:
        asked = CONSTRAINTS.get(family, [])
        total += len(await _same_under_every_plan(demo, lambda s=sku, c=asked: demo.substitutes(s, c)))
        total += len(await _same_under_every_plan(demo, lambda s=sku: demo.substitutes(s, [])))
        total += len(
            await _same_under_every_plan(
                demo,
                lambda s=sku, c=asked[:1]: demo.substitutes(s, c, include_discontinued=True, limit=30),
            )
        )
    assert total > 10 * len(sample)

    # GX-240 states its torque twice (datasheet 240, manual 250): a walk that jumps to 245 N·m
    # must still check it, through the index of rows that are not single values.
    cands = await _same_under_every_plan(
        demo, lambda: demo.substitutes("GX-220", ["torque>=245Nm"], limit=40)
    )
    assert "GX-240" in [c["product"]["sku"] for c in cands]


async def _tw1_torque_rows(engine) -> list[int]:
    """``name_rows`` of TW-1's torque attribute rows (how many statements of it there are)."""
    async with engine.connect() as conn:
        query = (
            select(t.attributes.c.name_rows)
            .join(t.products, t.products.c.id == t.attributes.c.product_id)
            .where(t.products.c.sku == "TW-1", t.attributes.c.name == "torque")
        )
        return list((await conn.execute(query)).scalars().all())


async def test_ranges_and_repeated_values_are_never_skipped(engine, tmp_path: Path) -> None:
    """Gearboxes whose torque is a single value, a range, or stated twice by two sources."""
    recs = [
        {"sku": f"PT-{v}", "name": f"Point {v}", "family": "gearbox", "attributes": {"torque": f"{v} N·m"}}
        for v in (90, 100, 120, 150, 200, 200, 260, 300)
    ]
    recs[5]["sku"] = "PT-200B"
    recs += [
        {"sku": "RG-1", "name": "Range", "family": "gearbox", "attributes": {"torque": "150-250 N·m"}},
        {"sku": "RG-2", "name": "Low range", "family": "gearbox", "attributes": {"torque": "60-110 N·m"}},
        {
            "sku": "TW-1",
            "name": "Twice stated",
            "family": "gearbox",
            "attributes": {"torque": "140 N·m"},
            "documents": [
                {"kind": "manual", "title": "TW-1 manual", "text": "# TW-1\n- Rated torque: 250 N·m\n"}
            ],
        },
        {"sku": "NO-T", "name": "No torque", "family": "gearbox", "attributes": {"ip": "IP65"}},
    ]
    data = tmp_path / "g"
    data.mkdir()
    (data / "g.jsonl").write_text("\n".join(json.dumps(r) for r in recs), encoding="utf-8")
    await ingest_path(engine, data)
    svc = CatalogService(engine)
    assert await _tw1_torque_rows(engine) == [2, 2]

    async with engine.connect() as conn:
        sku_of = {i: s for i, s in (await conn.execute(select(t.products.c.id, t.products.c.sku))).all()}

    async def pool(value: float, asked: str, n: int) -> list[str]:
        """The substitute candidate walk on torque from ``value``, every plan (same ids, same order)."""
        c = parse_constraint(asked)
        family = t.products.c.family == "gearbox"
        probe = svc._filter_sql(c, t.products.c.id, correlated=True)
        pairs = [(Constraint(attribute="family", op="=", text="gearbox"), family), (c, probe)]
        got = {}
        for plan in ("scan", *PLANS):
            svc._force = plan
            async with engine.connect() as conn:
                ids = await svc._pool(conn, [family, probe], pairs, ("torque", value), n)
                got[plan] = [sku_of[i] for i in ids]
        svc._force = None
        assert all(v == got["scan"] for v in got.values()), got
        return got["scan"]

    # 140 N·m (TW-1's table row) and 150 N·m (RG-1's lower bound) come before 245 N·m, and pass
    assert await pool(120.0, "torque>=245Nm", 2) == ["TW-1", "RG-1"]
    assert await pool(120.0, "torque=200Nm", 3) == ["RG-1", "PT-200", "PT-200B"]
    assert await pool(200.0, "torque<=100Nm", 2) == ["PT-100", "PT-90"]
    assert await pool(300.0, "torque>245Nm", 3) == ["PT-300", "PT-260", "TW-1", "RG-1"]
    assert await pool(120.0, "torque>=245Nm", 40) == ["TW-1", "RG-1", "PT-260", "PT-300"]

    for sku in ("PT-120", "PT-200", "TW-1", "RG-1"):
        for asked in ("torque>=245Nm", "torque=200Nm", "torque<=100Nm"):
            await _same_under_every_plan(svc, lambda s=sku, a=asked: svc.substitutes(s, [a], limit=20))
    for q in ("torque>=245Nm", "gearbox torque=200Nm", "torque<100Nm", "family:gearbox torque>=150Nm"):
        await _same_under_every_plan(svc, lambda q=q: svc.search(q, limit=50))

    # re-ingesting the manual without the torque line: TW-1 is back to one statement
    recs[-2]["documents"][0]["text"] = "# TW-1\nNo ratings here.\n"
    (data / "g.jsonl").write_text("\n".join(json.dumps(r) for r in recs), encoding="utf-8")
    await ingest_path(engine, data)
    assert await _tw1_torque_rows(engine) == [1]


async def test_bearings_are_the_same_under_every_plan(engine, bearing_tables: Path) -> None:
    await ingest_path(engine, bearing_tables, mapping=resource_path("mappings", "bearings.toml"))
    svc = CatalogService(engine)
    async with engine.connect() as conn:
        skus = (await conn.execute(select(t.products.c.sku).order_by(t.products.c.sku))).scalars().all()
    assert len(skus) == 101
    found = 0
    for sku in skus[::2]:
        found += len(await _same_under_every_plan(svc, lambda s=sku: svc.substitutes(s, [])))
    for sku in skus[1::3]:
        await _same_under_every_plan(svc, lambda s=sku: svc.substitutes(s, ["dynamic_load>=5kN", "seal:2Z"]))
    assert found > 0
    for q in (
        "family:bearing bore=10mm dynamic_load>=5kN",
        "bearing bore=20mm",
        "ball bearing outer_diameter>=40mm",
        "seal:2RS1",
        "family:bearing width=7mm",
    ):
        await _same_under_every_plan(svc, lambda q=q: svc.search(q, limit=50))


async def test_migration_0005_counts_repeated_statements(database_url: str) -> None:
    """Rows written before 0005 get name_rows from the data; the new indexes exist."""
    await upgrade(database_url, "0004_assist")
    engine = make_engine(database_url)
    try:
        async with engine.begin() as conn:
            pid = (
                await conn.execute(
                    text(
                        "INSERT INTO catalog_products (sku, sku_key, name, family, manufacturer, status, "
                        "origin) VALUES ('OLD-1', 'old1', 'Old', 'gearbox', '', 'active', '') RETURNING id"
                    )
                )
            ).scalar_one()
            row = {"product_id": pid, "unit": "N·m", "dimension": "torque", "source_kind": "table"}
            cols = (
                "product_id, name, value_text, unit, dimension, value_lo, value_hi, "
                "source_kind, source_title, origin"
            )
            for name, value in (("torque", 100.0), ("torque", 120.0), ("ratio", 5.0)):
                await conn.execute(
                    text(
                        f"INSERT INTO catalog_attributes ({cols}) VALUES (:product_id, :name, :v, :unit, "
                        ":dimension, :lo, :lo, :source_kind, 'x', '')"
                    ),
                    {**row, "name": name, "v": str(value), "lo": value},
                )
        await upgrade(database_url)
        async with engine.connect() as conn:
            result = await conn.execute(text("SELECT value_lo, name_rows FROM catalog_attributes"))
            got = {lo: n for lo, n in result.all()}
            indexes = await conn.run_sync(
                lambda c: {i["name"] for i in inspect(c).get_indexes("catalog_attributes")}
            )
            product_indexes = await conn.run_sync(
                lambda c: {i["name"] for i in inspect(c).get_indexes("catalog_products")}
            )
        assert got == {100.0: 2, 120.0: 2, 5.0: 1}
        declared = {i.name for i in t.attributes.indexes}
        assert declared <= indexes and "ix_catalog_attributes_irregular" in indexes
        assert {i.name for i in t.products.indexes} <= product_indexes
        async with engine.begin() as conn:  # a row written now gets the column default
            await conn.execute(
                insert(t.attributes).values(
                    product_id=pid,
                    name="ip",
                    value_text="IP65",
                    unit="",
                    source_kind="table",
                    source_title="x",
                    origin="",
                )
            )
            assert (
                await conn.execute(select(t.attributes.c.name_rows).where(t.attributes.c.name == "ip"))
            ).scalar_one() == 1
    finally:
        await engine.dispose()
