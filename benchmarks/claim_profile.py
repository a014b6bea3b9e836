"""Claims/s alone (no consoles, no buyer load) on PostgreSQL, 1 or 2 hubs, beside pgbench's
raw conditional UPDATE on the same server; optionally a py-spy profile of one hub.

    python benchmarks/claim_profile.py [--hubs 1] [--handoffs 1500] [--claimers 8]
        [--py-spy /path/to/py-spy --profile-out /tmp/claim.txt]

Where a claim's time goes: with --py-spy, the hub process is sampled during the storm and
the script prints the functions with the most samples (own and inclusive), grouped.
Not a test: nothing asserts; it prints figures.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from load import Hub, _admin, claim_storm, cpu_seconds, pgbench_baseline, seed


def summarize(raw: Path, top: int = 25) -> None:
    """py-spy --format raw: "frame;frame;... count" per line (root first)."""
    own: Counter[str] = Counter()
    incl: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack:
            continue
        count = int(n)
        total += count
        frames = stack.split(";")
        own[frames[-1]] += count
        for f in set(frames):
            incl[f] += count
    print(f"\n{total} samples; top by own time:")
    for f, n in own.most_common(top):
        print(f"  {100 * n / total:5.1f}%  {f}")
    print("top by inclusive time (warmline and driver frames):")
    shown = 0
    for f, n in incl.most_common(400):
        if any(k in f for k in ("warmline", "sqlalchemy", "asyncpg", "fastapi", "starlette", "pydantic")):
            print(f"  {100 * n / total:5.1f}%  {f}")
            shown += 1
            if shown >= top:
                break


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--hubs", type=int, default=1)
    p.add_argument("--handoffs", type=int, default=1500)
    p.add_argument("--claimers", type=int, default=8)
    p.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    p.add_argument("--pgbench-seconds", type=int, default=5)
    p.add_argument("--py-spy", help="path to py-spy: profile hub 0 during the storm")
    p.add_argument("--profile-out", default="/tmp/warmline-claim-profile.txt")
    args = p.parse_args()
    dbname = f"warmline_claims_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(args.postgres, f'CREATE DATABASE "{dbname}"'))
    url = f"{args.postgres.rsplit('/', 1)[0]}/{dbname}"
    hubs: list[Hub] = []
    spy = None
    try:
        data = asyncio.run(seed(url, buyers=1, agents=max(2, args.claimers), handoffs=args.handoffs))
        hubs = [Hub(url, f"hub{i}") for i in range(args.hubs)]
        urls = [h.wait() for h in hubs]
        # warm-up: a few claims through each hub (connections, statement caches)
        warm, data["handoffs"] = data["handoffs"][:40], data["handoffs"][40:]
        asyncio.run(claim_storm(urls, data["agents"], warm, 4))
        if args.py_spy:
            spy = subprocess.Popen(
                [
                    args.py_spy,
                    "record",
                    "--pid",
                    str(hubs[0].proc.pid),
                    "--format",
                    "raw",
                    "--rate",
                    "250",
                    "--output",
                    args.profile_out,
                    "--nonblocking",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            time.sleep(1.0)
        cpu0 = [cpu_seconds(h.proc.pid) for h in hubs]
        t0 = time.monotonic()
        claims = asyncio.run(claim_storm(urls, data["agents"], data["handoffs"], args.claimers))
        wall = time.monotonic() - t0
        hub_cpu = [(cpu_seconds(h.proc.pid) - c) for h, c in zip(hubs, cpu0, strict=True)]
        if spy is not None:
            spy.send_signal(2)
            spy.wait(30)
        baseline = pgbench_baseline(url, clients=args.claimers, seconds=args.pgbench_seconds)
        won = claims["won"]
        print(
            f"{args.hubs} hub(s) on PostgreSQL: {claims['claims_per_s']:.0f} claims/s "
            f"({won} won, {claims['lost']} lost races, errors {claims['errors']}); "
            f"hub CPU {sum(hub_cpu) / max(won, 1) * 1000:.2f} ms per won claim "
            f"({sum(hub_cpu) / wall:.2f} cores); "
            f"pgbench raw conditional UPDATE {baseline or float('nan'):.0f}/s"
        )
        if spy is not None and Path(args.profile_out).exists():
            summarize(Path(args.profile_out))
    finally:
        if spy is not None and spy.poll() is None:
            spy.kill()
        for h in hubs:
            h.stop()
        asyncio.run(_admin(args.postgres, f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
