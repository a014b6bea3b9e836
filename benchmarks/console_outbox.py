"""What the console's reply outbox costs on the send path, with a baseline in the same run.

1. Writing one reply to the outbox (JSON line + fsync) vs the same line without fsync.
2. Press-send to confirmed, through a real hub (embedded, SQLite on disk): the outbox path
   (append + fsync, the sender's POST with the key, the ``sent`` record) vs a direct
   ``post_message`` with the same client (the console's path before the outbox).
3. Reloading an outbox holding N pending replies (console start after a long outage).

    python benchmarks/console_outbox.py [--replies 300] [--reload 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from warmline.console.client.backoff import Backoff
from warmline.console.client.hub_client import HubClient, new_idempotency_key
from warmline.console.client.outbox import Outbox, OutboxSender
from warmline.hub.embedded import EmbeddedHub


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def row(name: str, ms: list[float]) -> str:
    return (
        f"  {name:<44} p50 {pct(ms, 50):7.2f} ms   p95 {pct(ms, 95):7.2f} ms   "
        f"p99 {pct(ms, 99):7.2f} ms   mean {statistics.fmean(ms):7.2f} ms"
    )


def bench_append(directory: Path, n: int) -> None:
    print(f"1. one reply written to the outbox ({n} replies, {directory})")
    box = Outbox(directory / "append.jsonl")
    with_fsync = []
    for i in range(n):
        t = time.perf_counter()
        box.add(key=f"k{i}", conversation_id="c", body="A reply of ordinary length, " * 4, agent_id="a")
        with_fsync.append((time.perf_counter() - t) * 1000)
    box.close()
    plain = []
    with open(directory / "plain.jsonl", "ab") as fh:
        for i in range(n):
            line = json.dumps({"op": "add", "key": f"k{i}", "body": "A reply of ordinary length, " * 4})
            t = time.perf_counter()
            fh.write(line.encode() + b"\n")
            fh.flush()
            plain.append((time.perf_counter() - t) * 1000)
    print(row("outbox add (append + fsync)", with_fsync))
    print(row("baseline: same line, write + flush, no fsync", plain))


async def bench_send(hub: EmbeddedHub, token: str, conversation_id: str, n: int, directory: Path) -> None:
    print(f"2. press send -> hub's answer, {n} replies in one conversation, sequential")
    client = HubClient(hub.base_url, token)
    direct: list[float] = []
    outboxed: list[float] = []
    no_fsync: list[float] = []
    real_fsync = os.fsync
    box = Outbox(directory / "send.jsonl")
    done: dict[str, asyncio.Event] = {}

    def sent(entry, _message) -> None:
        done[entry.key].set()

    async def post(entry):
        return await client.post_message(
            entry.conversation_id, entry.body, idempotency_key=entry.key, retries=0
        )

    sender = OutboxSender(box, post, on_change=lambda e: None, on_sent=sent, backoff=Backoff(0.05, 0.5))
    task = asyncio.create_task(sender.run())
    try:
        for i in range(5):  # warm-up, both paths
            await client.post_message(conversation_id, f"warm {i}", idempotency_key=new_idempotency_key())
        for i in range(n):
            # alternate, so drift on a shared machine hits both paths alike
            t = time.perf_counter()
            await client.post_message(conversation_id, f"direct {i}", idempotency_key=new_idempotency_key())
            direct.append((time.perf_counter() - t) * 1000)

            for series, fsync in ((outboxed, real_fsync), (no_fsync, lambda _fd: None)):
                key = new_idempotency_key()
                done[key] = asyncio.Event()
                os.fsync = fsync  # diagnostic series: where the difference goes
                try:
                    t = time.perf_counter()
                    box.add(key=key, conversation_id=conversation_id, body=f"outbox {i}", agent_id="a")
                    sender.notify()
                    await done[key].wait()
                    series.append((time.perf_counter() - t) * 1000)
                finally:
                    os.fsync = real_fsync
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        box.close()
        await client.aclose()
    print(row("outbox: add + fsync + POST + sent record", outboxed))
    print(row("  diagnostic: the same with fsync disabled", no_fsync))
    print(row("baseline: direct post_message (same key use)", direct))


def bench_reload(directory: Path, n: int) -> None:
    print(f"3. console start with {n} pending replies in the outbox")
    path = directory / "reload.jsonl"
    box = Outbox(path)
    for i in range(n):
        box.add(key=f"k{i}", conversation_id=f"c{i % 20}", body=f"Reply number {i} " * 5, agent_id="a")
    for i in range(0, n, 4):  # a quarter already sent (not compacted yet): realistic dead records
        box._append({"op": "sent", "key": f"k{i}", "message_id": f"m{i}"})
    box.close()
    size = path.stat().st_size
    times = []
    for _ in range(5):
        shutil_copy = directory / "reload-copy.jsonl"
        shutil_copy.write_bytes(path.read_bytes())
        t = time.perf_counter()
        again = Outbox(shutil_copy)
        times.append((time.perf_counter() - t) * 1000)
        live = len(again)
        again.close()
    print(row(f"load + compact ({size / 1024:.0f} KiB, {live} live)", times))


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--replies", type=int, default=300)
    parser.add_argument("--reload", type=int, default=2000)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        bench_append(directory, args.replies)
        hub = EmbeddedHub(database_url=f"sqlite:///{directory / 'hub.db'}")
        hub.start()
        try:
            _agent, token = hub.create_agent("bench", ["all"], "Bench Agent")
            bot = hub.create_bot("bench-bot")
            with httpx.Client(base_url=hub.base_url, timeout=15) as http:
                r = http.post(
                    "/v1/handoffs",
                    headers={"Authorization": f"Bearer {bot}"},
                    json={
                        "conversation": {
                            "buyer": {"name": "Maja Lind", "company": "Bench AB"},
                            "messages": [{"author_kind": "buyer", "body": "A quote for 40 gearboxes?"}],
                        },
                        "packet": {"reason": "live_data", "summary": "Needs live pricing."},
                    },
                )
                r.raise_for_status()
                created = r.json()
                r = http.post(
                    f"/v1/handoffs/{created['handoff']['id']}/claim",
                    headers={"Authorization": f"Bearer {token}"},
                )
                r.raise_for_status()
            await bench_send(hub, token, created["handoff"]["conversation_id"], args.replies, directory)
        finally:
            hub.stop()
        bench_reload(directory, args.reload)
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    asyncio.run(main())
