"""Assistant jobs benchmark (issue 5): time from POST /v1/handoffs/{id}/assist to the
``assist.completed`` event on an agent's event stream, per kind, on the demo catalog.

Baseline, in the same run: the same lookup called directly (``warmline.assist.lookups.run_assist``
over a ``CatalogService`` on the same database, no hub, no job, no note, no events). The
difference is what being a background job costs: the POST (checks, job row, event), queueing
onto a task, the status/progress writes with their events, the note, and SSE delivery.

    python benchmarks/assist_jobs.py [--runs 30] [--postgres URL] [--write]

The hub runs embedded (its own thread and event loop, real HTTP on loopback); the client and
the baseline run in the main thread. ``--write`` puts the run into the block marked for this
script in docs/benchmarks.md (and only there).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
import uuid
from typing import Any

import asyncpg
import httpx
from docwrite import DOC, write_block

from warmline.assist.lookups import run_assist
from warmline.catalog.demo import ensure_demo_catalog
from warmline.catalog.service import CatalogService, make_engine
from warmline.domain.assist import AssistRequest
from warmline.domain.packet import HandoffPacket
from warmline.hub.embedded import EmbeddedHub

HEADING = "### Latest full run (written by `assist_jobs.py --write`)"

PACKET: dict[str, Any] = {
    "reason": "complexity",
    "summary": "GX-180 is discontinued; the buyer needs a replacement that fits.",
    "goal": "Replace a discontinued GX-180 conveyor gearbox",
    "product_family": "gearbox",
    "products": [
        {"sku": "GX-180", "name": "Helical washdown gearbox", "family": "gearbox"},
        {"sku": "GX-220", "name": "Helical washdown gearbox", "family": "gearbox"},
    ],
    "constraints": [{"name": "torque", "value": ">= 230", "unit": "N·m"}, {"name": "ip", "value": ">= IP65"}],
    "unresolved": [{"text": "Lead time to Rotterdam"}],
}

KINDS: list[dict[str, Any]] = [
    {"kind": "spec", "skus": ["GX-220"]},
    {"kind": "spec", "skus": ["GX-220", "GX-240", "GX-180", "GX-200"]},
    {"kind": "subs", "skus": ["GX-180"]},
    {"kind": "acc", "skus": ["GX-220"]},
    {"kind": "compare", "skus": ["GX-220", "GX-240", "GX-180"]},
    {"kind": "summary", "document": "GX-220 operating manual"},
    {"kind": "draft"},
    {"kind": "search", "query": "washdown family:gearbox ip>=66"},
]


def label(body: dict[str, Any]) -> str:
    extra = f" ({len(body['skus'])} SKUs)" if body["kind"] in ("spec", "compare") else ""
    return f"{body['kind']}{extra}"


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))]


async def measure(database_url: str, runs: int) -> list[tuple[str, list[float], list[float]]]:
    await ensure_demo_catalog(database_url)
    hub = EmbeddedHub(database_url=database_url)
    hub.start()
    engine = make_engine(database_url)
    catalog = CatalogService(engine)
    packet = HandoffPacket.model_validate(PACKET)
    out = []
    try:
        _agent, token = hub.create_agent("bench", ["all"])
        bot = hub.create_bot("bench-bot")
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=hub.base_url, headers=headers, timeout=30) as client:
            r = await client.post(
                "/v1/handoffs",
                headers={"Authorization": f"Bearer {bot}"},
                json={
                    "conversation": {
                        "buyer": {"name": "B"},
                        "messages": [{"author_kind": "buyer", "body": "hi"}],
                    },
                    "packet": PACKET,
                },
            )
            r.raise_for_status()
            handoff_id = r.json()["handoff"]["id"]
            done: dict[str, float] = {}
            changed = asyncio.Event()

            async def follow() -> None:
                async with client.stream("GET", "/v1/events", timeout=None) as stream:
                    async for line in stream.aiter_lines():
                        if line.startswith("data:"):
                            event = json.loads(line[5:])
                            if event["type"] in ("assist.completed", "assist.failed"):
                                done[event["data"]["job"]["id"]] = time.perf_counter()
                                changed.set()

            reader = asyncio.create_task(follow())
            await asyncio.sleep(0.3)  # the stream is open
            for body in KINDS:
                request = AssistRequest.model_validate(body)
                hub_ms, base_ms = [], []
                for i in range(runs + 3):  # 3 warm-up rounds
                    t0 = time.perf_counter()
                    r = await client.post(f"/v1/handoffs/{handoff_id}/assist", json=body)
                    r.raise_for_status()
                    job_id = r.json()["id"]
                    while job_id not in done:
                        changed.clear()
                        await asyncio.wait_for(changed.wait(), 30)
                    t1 = time.perf_counter()
                    await run_assist(catalog, request, packet)
                    t2 = time.perf_counter()
                    if i >= 3:
                        hub_ms.append((done[job_id] - t0) * 1000)
                        base_ms.append((t2 - t1) * 1000)
                out.append((label(body), hub_ms, base_ms))
                job_p50, base_p50 = statistics.median(hub_ms), statistics.median(base_ms)
                print(
                    f"{label(body):18} job p50 {job_p50:7.1f} ms p95 {pct(hub_ms, 95):7.1f} ms | "
                    f"direct p50 {base_p50:7.1f} ms p95 {pct(base_ms, 95):7.1f} ms",
                    flush=True,
                )
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)
    finally:
        await engine.dispose()
        hub.stop()
    return out


async def phases(database_url: str, runs: int) -> list[tuple[str, float, float]]:
    """Where one job's time goes without HTTP (spec, 1 SKU), each phase timed in-process:
    the hub's own functions in the order the runner calls them, no SSE, no task switch."""
    from warmline.domain.models import EventType, NewHandoff
    from warmline.hub import assist_jobs, service
    from warmline.hub.assist_jobs import AssistRunner, _emit, _set, job_model
    from warmline.hub.store.db import Database

    db = Database(database_url)
    await db.start()
    try:
        async with db.write() as tx:
            agent, _ = await service.create_agent(tx, name=f"phases-{uuid.uuid4().hex[:6]}", skills=["all"])
        spec = NewHandoff.model_validate(
            {
                "conversation": {
                    "buyer": {"name": "B"},
                    "messages": [{"author_kind": "buyer", "body": "hi"}],
                },
                "packet": PACKET,
            }
        )
        async with db.write() as tx:
            handoff_id = (await service.create_handoff(tx, spec=spec)).handoff.id
        runner = AssistRunner(db, CatalogService(db.engine))
        request = AssistRequest.model_validate(KINDS[0])
        names = [
            "POST checks (SKUs exist)",
            "job row + assist.started",
            "queued -> running + event",
            "one progress write + event",
            "the lookup itself",
            "done + note + 2 events",
        ]
        times: list[list[float]] = [[] for _ in names]
        for i in range(runs + 3):
            t = [time.perf_counter()]
            await runner.validate(request, handoff_id)
            t.append(time.perf_counter())
            async with db.write() as tx:
                job = await assist_jobs.create_job(tx, agent=agent, handoff_id=handoff_id, request=request)
            t.append(time.perf_counter())
            for where, values in ((("queued",), {"status": "running"}), (("running",), {"progress": 500})):
                async with db.write() as tx:
                    row = await _set(tx, job.id, where=where, values=values)
                    assert row is not None
                    _emit(tx, EventType.ASSIST_PROGRESS, job_model(row))
                t.append(time.perf_counter())
            result = await run_assist(runner.catalog, request, None)
            t.append(time.perf_counter())
            await runner._finish_done(job.id, job, result)
            t.append(time.perf_counter())
            if i >= 3:
                for k in range(len(names)):
                    times[k].append((t[k + 1] - t[k]) * 1000)
        return [(n, statistics.median(v), pct(v, 95)) for n, v in zip(names, times, strict=True)]
    finally:
        await db.close()


def phase_table(rows: list[tuple[str, float, float]]) -> str:
    lines = ["| phase (spec, 1 SKU, in-process) | p50 | p95 |", "|---|---|---|"]
    lines += [f"| {n} | {a:.1f} ms | {b:.1f} ms |" for n, a, b in rows]
    lines.append(f"| total | {sum(a for _n, a, _b in rows):.1f} ms | |")
    return "\n".join(lines)


def table(results: list[tuple[str, list[float], list[float]]]) -> str:
    lines = [
        "| kind | direct lookup p50 / p95 | job: POST → assist.completed p50 / p95 | job overhead p50 |",
        "|---|---|---|---|",
    ]
    for name, hub_ms, base_ms in results:
        lines.append(
            f"| {name} | {statistics.median(base_ms):.1f} / {pct(base_ms, 95):.1f} ms | "
            f"{statistics.median(hub_ms):.1f} / {pct(hub_ms, 95):.1f} ms | "
            f"{statistics.median(hub_ms) - statistics.median(base_ms):+.1f} ms |"
        )
    return "\n".join(lines)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--postgres", help="admin URL; a scratch database is created and dropped")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    load = os.getloadavg()
    sections = []
    with tempfile.TemporaryDirectory() as tmp:
        print("SQLite")
        sqlite = await measure(f"sqlite:///{tmp}/bench.db", args.runs)
        sections.append(("SQLite", sqlite))
        sqlite_phases = await phases(f"sqlite:///{tmp}/bench.db", args.runs)
        print(phase_table(sqlite_phases))
    if args.postgres:
        name = f"warmline_bench_{uuid.uuid4().hex[:8]}"
        admin = await asyncpg.connect(args.postgres)
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            print("PostgreSQL")
            pg_url = f"{args.postgres.rsplit('/', 1)[0]}/{name}"
            pg = await measure(pg_url, args.runs)
            sections.append(("PostgreSQL", pg))
            pg_phases = await phases(pg_url, args.runs)
            print(phase_table(pg_phases))
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()
    load_after = os.getloadavg()
    text = "\n\n".join(f"**{db}**\n\n{table(res)}" for db, res in sections)
    text += "\n\nWhere a job's time goes, the same steps timed in-process without HTTP (SQLite"
    text += ", then PostgreSQL" if args.postgres else ""
    text += "):\n\n" + phase_table(sqlite_phases)
    if args.postgres:
        text += "\n\n" + phase_table(pg_phases)
    text += (
        "\n\nThe rest of the end-to-end job overhead (not broken down further here) is HTTP on "
        "loopback, the job's task waking on the hub's event loop, the event feed and SSE delivery, "
        "and the GIL (the embedded hub runs in a thread of the benchmark's own process, beside the "
        "client and the baseline); on this loaded machine it dominates. No target was set for issue 5."
    )
    print(text)
    if args.write:
        body = (
            f"{HEADING}\n\n"
            f"`python benchmarks/assist_jobs.py --runs {args.runs}"
            f"{' --postgres URL' if args.postgres else ''} --write`, demo catalog (2,200 SKUs), "
            f"{args.runs} sequential jobs per kind after 3 warm-up, one agent stream open. "
            "Baseline in the same run: the same lookup called directly (`run_assist` over a "
            "`CatalogService`, no hub). The job time runs from sending the POST to the "
            "`assist.completed` event arriving on the agent's SSE stream; its overhead is the POST "
            "(checks, job row + event), the task start, the running/progress writes with their events, "
            "the completion transaction with the internal note, and delivery. Load average "
            f"{load[0]:.1f} before, {load_after[0]:.1f} after (the machine is shared with other work).\n\n"
            f"{text}\n"
        )
        write_block("assist_jobs.py", body)
        print(f"wrote {DOC}")


if __name__ == "__main__":
    asyncio.run(main())
