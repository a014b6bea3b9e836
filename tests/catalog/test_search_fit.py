"""SKU prefixes ahead of full text, and substitutes ranked by fit to what was asked (issue 17 item 7).

On the demo catalog, SQLite and PostgreSQL: "GX-2" lists GX-200, GX-220 and GX-240 first
(``matched_by="sku_prefix"``), and a 180 N·m need is never answered with a 750 N·m gearbox:
substitutes rank the closest ratings first, say how far above the ask each one is, and leave
out parts over OVERSIZE_FACTOR times the asked minimum (a named successor stays, marked).
"""

from __future__ import annotations

import math

import pytest

from warmline.catalog.demo import ensure_demo_catalog
from warmline.catalog.service import OVERSIZE_FACTOR, CatalogService, make_engine, sku_prefix_key


@pytest.fixture
async def demo(database_url: str):
    await ensure_demo_catalog(database_url)
    engine = make_engine(database_url)
    try:
        yield CatalogService(engine)
    finally:
        await engine.dispose()


def test_which_queries_are_sku_prefixes() -> None:
    assert sku_prefix_key("GX-2") == "gx2"
    assert sku_prefix_key(" hg-05 ") == "hg05"
    assert sku_prefix_key("gearbox") is None  # no digit: a word, found by full text
    assert sku_prefix_key("GX 2") is None  # two words
    assert sku_prefix_key("6") is None  # too short to list anything useful


async def test_sku_prefix_comes_before_full_text(demo: CatalogService) -> None:
    hits = await demo.search("GX-2")
    assert [h.sku for h in hits[:3]] == ["GX-200", "GX-220", "GX-240"]
    assert {h.matched_by for h in hits[:3]} == {"sku_prefix"}
    # case and punctuation do not matter, filters still apply
    assert [h.sku for h in await demo.search("gx2")][:3] == ["GX-200", "GX-220", "GX-240"]
    assert [h.sku for h in await demo.search("GX-2 torque>=230Nm")] == ["GX-240"]
    # the exact SKU first, then the longer SKUs it starts, then full-text matches
    hits = await demo.search("GX-22")
    assert hits[0].sku == "GX-220" and hits[0].matched_by == "sku_prefix"
    assert all(h.matched_by == "text" for h in hits[1:])
    hits = await demo.search("GX-220")
    assert (hits[0].sku, hits[0].matched_by) == ("GX-220", "sku")
    hits = await demo.search("HG-05", limit=5)
    assert len(hits) == 5 and all(h.sku.startswith("HG-05") for h in hits)
    assert [h.sku for h in hits] == sorted(h.sku for h in hits)
    # words are still full-text
    assert {h.matched_by for h in await demo.search("washdown gearbox")} == {"text"}


async def test_substitutes_do_not_propose_a_part_far_above_the_ask(demo: CatalogService) -> None:
    big = (await demo.search("HG-0750", limit=1))[0].sku
    subs = await demo.substitutes(big, ["torque>=180Nm"], limit=10)
    assert subs
    torques = []
    for c in subs:
        sheet = await demo.spec_sheet(c.product.sku)
        torque = next(a for a in sheet.attributes if a.name == "torque").value_si
        torques.append(torque)
        assert 180 <= torque <= 180 * OVERSIZE_FACTOR, (c.product.sku, torque)
        assert c.fit_ratio == pytest.approx(torque / 180, rel=1e-3)
        assert f"for the 180 N·m asked ({torque / 180:.1f}×)" in c.why
    # closest fit first among otherwise equal candidates (same verdicts: same whole score)
    assert torques[0] == 180
    for band in {math.ceil(c.score - 1e-6) for c in subs}:
        ratios = [c.fit_ratio for c in subs if math.ceil(c.score - 1e-6) == band]
        assert ratios == sorted(ratios)  # type: ignore[type-var]
    # without an ask, like for like: the original's own size
    same = await demo.substitutes(big, [], limit=3)
    assert all("750" in c.product.name for c in same) and all(c.fit_ratio is None for c in same)


async def test_fit_ranks_after_like_for_like_and_a_successor_stays(demo: CatalogService) -> None:
    # GX-220 (washdown, 220 N·m) asked for >= 100 N·m: the washdown GX-240 (2.4x) still leads on
    # like-for-like checks; then the plain gearboxes, closest to the ask first.
    subs = await demo.substitutes("GX-220", ["torque>=100Nm"], limit=6)
    assert subs[0].product.sku == "GX-240" and subs[0].fit_ratio == pytest.approx(2.4)
    for band in {math.ceil(c.score - 1e-6) for c in subs[1:]}:
        ratios = [c.fit_ratio for c in subs[1:] if math.ceil(c.score - 1e-6) == band]
        assert ratios == sorted(ratios)  # type: ignore[type-var]
    # the named successor of GX-180 is proposed even when far above a small ask, and says so
    subs = await demo.substitutes("GX-180", ["torque>=50Nm"], limit=5)
    first = subs[0]
    assert first.product.sku == "GX-220" and first.via_supersession
    assert "oversized: torque 220 N·m for the 50 N·m asked (4.4×)" in first.why
    assert all(c.fit_ratio is not None and c.fit_ratio <= OVERSIZE_FACTOR for c in subs[1:])


async def test_prefix_and_fit_over_http(database_url: str, agent_client) -> None:
    await ensure_demo_catalog(database_url)
    async with agent_client(database_url) as c:
        r = await c.get("/v1/catalog/search", params={"q": "GX-2"})
        assert r.status_code == 200
        assert [(h["sku"], h["matched_by"]) for h in r.json()[:3]] == [
            ("GX-200", "sku_prefix"),
            ("GX-220", "sku_prefix"),
            ("GX-240", "sku_prefix"),
        ]
        path = "/v1/catalog/products/HG-0750-015/substitutes"
        r = await c.get(path, params={"constraint": "torque>=180Nm"})
        assert r.status_code == 200
        assert r.json() and all(x["fit_ratio"] <= OVERSIZE_FACTOR for x in r.json())
