"""Round trips one claim makes to PostgreSQL, counted at the driver (asyncpg executes and
prepared-statement fetches; load-independent, unlike claims/s on a shared machine), for a
claim through ``service.claim`` with and without the capacity check.

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

    import asyncpg
    from asyncpg.prepared_stmt import PreparedStatement

    def kind(text: str) -> str:
        if text.count(";") > 1:
            return "commit script (one message)"
        words = text.split()
        table = re.search(r"(?:FROM|UPDATE|INTO)\s+(\w+)", text)
        return f"{words[0].upper() if words else '?'} {table.group(1) if table else ''}".strip()

    execute, prepare = asyncpg.Connection.execute, asyncpg.Connection.prepare

    async def counted_execute(self, query, *args, **kwargs):  # type: ignore[no-untyped-def]
        sent[kind(query)] += 1
        return await execute(self, query, *args, **kwargs)

    async def counted_prepare(self, query, *args, **kwargs):  # type: ignore[no-untyped-def]
        sent["PREPARE (first use on a connection)"] += 1
        return await prepare(self, query, *args, **kwargs)

    asyncpg.Connection.execute, asyncpg.Connection.prepare = counted_execute, counted_prepare
    for method in ("fetch", "fetchrow", "fetchval"):
        original = getattr(PreparedStatement, method)

        async def counted(self, *args, _original=original, **kwargs):  # type: ignore[no-untyped-def]
            sent[kind(self._query)] += 1
            return await _original(self, *args, **kwargs)

        setattr(PreparedStatement, method, counted)

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
            total = sum(v for k, v in sent.items() if not k.startswith("PREPARE"))
            what = "on" if capacity else "off"
            print(f"capacity {what}: {total} round trips per claim (PREPAREs aside): {dict(sent)}")
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
