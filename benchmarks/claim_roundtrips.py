"""Statements a claim sends to PostgreSQL, counted (load-independent, unlike claims/s on a
shared machine): SQLAlchemy's cursor executes plus BEGIN/COMMIT/ROLLBACK (a COMMIT after the
commit script is a no-op) and the commit script, for one claim through ``service.claim``
with and without the capacity check.

    python benchmarks/claim_roundtrips.py [--postgres postgresql://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import uuid
from collections import Counter
from pathlib import Path

from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parent))

from load import _admin


async def run(url: str) -> None:
    from warmline.domain.models import NewHandoff
    from warmline.domain.packet import HandoffPacket
    from warmline.hub import service
    from warmline.hub.store.db import Database
    from warmline.storage.migrate import upgrade

    await upgrade(url)
    db = Database(url)
    await db.start(listen=False)
    sent: Counter[str] = Counter()

    @event.listens_for(db.engine.sync_engine, "before_cursor_execute")
    def _stmt(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        table = re.search(r"(?:FROM|UPDATE|INTO)\s+(\w+)", statement)
        sent[f"{statement.split()[0].upper()} {table.group(1) if table else ''}".strip()] += 1

    for name in ("begin", "commit", "rollback"):
        event.listen(db.engine.sync_engine, name, lambda *_a, _n=name: sent.update([_n.upper()]))
    try:
        async with db.write() as tx:
            agent, _token = await service.create_agent(tx, name="a", skills=["all"])
            await service.create_bot(tx, name="b")
        packet = HandoffPacket.model_validate(
            {"reason": "purchase_intent", "summary": "s", "product_family": "gearbox"}
        )
        for capacity in (0, 5):
            async with db.write() as tx:
                created = await service.create_handoff(
                    tx,
                    spec=NewHandoff.model_validate(
                        {
                            "conversation": {"buyer": {"name": "B"}, "messages": []},
                            "packet": packet.model_dump(),
                        }
                    ),
                )
            sent.clear()
            await service.claim(db, agent=agent, handoff_id=created.handoff.id, capacity=capacity)
            total = sum(sent.values()) + 1  # + the commit script (driver.execute, not a cursor)
            what = "on" if capacity else "off"
            print(f"capacity {what}: ~{total} statements per claim: {dict(sent)} + the commit script")
    finally:
        await db.close()


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = p.parse_args()
    dbname = f"warmline_rt_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(args.postgres, f'CREATE DATABASE "{dbname}"'))
    try:
        asyncio.run(run(f"{args.postgres.rsplit('/', 1)[0]}/{dbname}"))
    finally:
        asyncio.run(_admin(args.postgres, f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
