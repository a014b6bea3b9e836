"""The demo's history (hub.metrics.demo_history) on SQLite and PostgreSQL: resolved handoffs
spread over the last 30 days through the hub's own service and capture, with reviews,
ratings and buyers who repeated the packet -- and seeded once only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from warmline.hub import service
from warmline.hub.metrics.compute import Window, compute
from warmline.hub.metrics.demo_history import seed_history
from warmline.hub.metrics.tables import HandoffRepeatRow
from warmline.hub.store.tables import HandoffRow

from .conftest import open_db


async def test_demo_history(database_url: str) -> None:
    db = await open_db(database_url)
    try:
        async with db.write() as tx:
            for name in ("anna", "marco", "lena"):
                await service.create_agent(tx, name=name, skills=["all"], display_name=name.title())
        assert await seed_history(db, count=60) == 60
        assert await seed_history(db, count=60) == 0  # once only
        async with db.read() as session:
            report = await compute(session, Window())
            statuses = set((await session.scalars(select(HandoffRow.status))).all())
            repeats = (await session.execute(select(HandoffRepeatRow.kind, HandoffRepeatRow.found))).all()
    finally:
        await db.close()
    c = report["counts"]
    assert c["escalated"] == c["resolved"] == 60 and statuses == {"resolved"}
    assert 20 <= c["reviewed"] <= 60 and c["rated"] >= 10 and c["requeued"] >= 1
    ttfr, res = report["time_to_first_response"], report["resolution_time"]
    assert ttfr["count"] == 60 and 0 < ttfr["p50_seconds"] <= ttfr["p90_seconds"] < res["p90_seconds"]
    assert report["buyer_repeated"]["detected"] >= 1 and repeats
    assert {kind for kind, _found in repeats} <= {"sku", "quantity", "constraint", "goal"}
    days = [d["day"] for d in report["daily"]]
    oldest = (datetime.now(UTC) - timedelta(days=31)).date().isoformat()
    assert len(days) >= 15 and days == sorted(days) and days[0] >= oldest
    assert len(report["by_agent"]) == 3
    assert report["satisfaction"]["ai_assisted"]["count"] >= 1
