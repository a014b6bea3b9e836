"""Load: N consoles on SSE and M buyers posting, against 1 and 2 hubs on PostgreSQL and 1 on SQLite.

For each configuration this script starts real hub processes (`warmline hub`) on a fresh
database, opens N event streams from separate client processes (lean raw-asyncio HTTP
readers, no per-event JSON parsing), has M buyers post messages at a fixed total rate
(open loop: the schedule does not wait for slow answers; raw-asyncio keep-alive HTTP/1.1
clients, so the generator's own CPU stays small) -- ``--warmup`` seconds first, not
counted, then ``--seconds`` measured -- and then runs a claim storm.

Delivery latency, precisely: each buyer message carries the wall-clock time its POST
started (``time.time_ns()``, same clock in every process of this machine); a console
process stamps ``time.time()`` when the bytes of the event frame have been read from its
socket. One sample per (message, console) pair; p50/p99 are over all pairs. "missing" are
pairs never seen by the end of a grace period after the last POST.

Claims: H handoffs are queued beforehand; pairs of specialists race for each (one wins,
one gets 409), spread over the instances; claims/s = won claims / wall time.
Baseline (PostgreSQL, same server, same run): pgbench running benchmarks/claim.pgbench,
the bare conditional UPDATE with no event, message or HTTP, at the same concurrency.

Hub memory: peak RSS (VmHWM) of each hub process. Errors: non-2xx POSTs, connection
errors, event streams that ended early.

    python benchmarks/load.py [--consoles 500] [--rate 100] [--seconds 20] [--buyers 20]
        [--configs pg1,pg2,sqlite1] [--postgres postgresql://postgres@127.0.0.1:5432/postgres]

Not a test: nothing asserts; it prints figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
HUB_LINE = re.compile(r"warmline hub on (http://[\d.]+:\d+)")
KEY = re.compile(rb'"body":"L(\d+)-(\d+)-(\d+)"')


# --- console processes: many raw SSE readers ---------------------------------------------------


async def _sse_reader(host: str, port: int, token: str, stats: dict[str, Any], ready: asyncio.Event) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(
        (
            f"GET /v1/events HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
            "Accept: text/event-stream\r\n\r\n"
        ).encode()
    )
    head = await reader.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        stats["refused"] += 1
        return
    stats["open"] += 1
    if stats["open"] == stats["wanted"]:
        ready.set()
    hist: Counter[int] = stats["hist"]
    buf = b""
    received = 0
    try:
        while data := await reader.read(65536):
            now_ns = time.time_ns()
            buf += data
            cut = buf.rfind(b"\n\n")
            if cut < 0:
                continue
            complete, buf = buf[:cut], buf[cut + 2 :]
            for m in KEY.finditer(complete):
                hist[(now_ns - int(m.group(1))) // 100_000] += 1  # 0.1 ms buckets
                received += 1
        stats["ended"] += 1  # the hub closed the stream before we were done
    finally:
        stats["received"].append(received)
        writer.close()


async def consoles_role(urls: list[str], tokens: list[str], count: int) -> None:
    """Open ``count`` streams, say "ready", read until a line arrives on stdin, print stats."""
    stats: dict[str, Any] = {
        "wanted": count,
        "open": 0,
        "refused": 0,
        "ended": 0,
        "hist": Counter(),
        "received": [],
    }
    ready = asyncio.Event()
    tasks = []
    for i in range(count):
        host, port = urls[i % len(urls)].removeprefix("http://").split(":")
        tasks.append(asyncio.create_task(_sse_reader(host, int(port), tokens[i % len(tokens)], stats, ready)))
        if i % 50 == 49:
            await asyncio.sleep(0.05)  # do not stampede the accept queue
    await asyncio.wait_for(ready.wait(), 60)
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    out = {k: v for k, v in stats.items() if k != "hist"}
    out["hist"] = {str(k): v for k, v in stats["hist"].items()}
    print(json.dumps(out), flush=True)


# --- hubs ---------------------------------------------------------------------------------------


class Hub:
    def __init__(self, database_url: str, name: str) -> None:
        env = {**os.environ, "WARMLINE_DATABASE_URL": database_url}
        # the claim storm's agents each win dozens: capacity stays checked (the count runs in
        # every claim's UPDATE) but never refuses (issue 12's default of 5 would)
        env.setdefault("WARMLINE_MAX_ACTIVE_PER_AGENT", "1000000")
        self.name = name
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "warmline.cli",
                "hub",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--log-level",
                "warning",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.url: str | None = None
        self.log: list[str] = []
        self._ready = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.log.append(line.rstrip())
            if self.url is None and (m := HUB_LINE.search(line)):
                self.url = m.group(1)
                self._ready.set()
        self._ready.set()

    def wait(self) -> str:
        if not self._ready.wait(60) or self.url is None:
            raise RuntimeError(f"{self.name} did not start: {self.log[-10:]}")
        return self.url

    def peak_rss_mb(self) -> float:
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# --- setup ----------------------------------------------------------------------------------------


async def _admin(url: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def seed(database_url: str, *, buyers: int, agents: int, handoffs: int) -> dict[str, Any]:
    from warmline.domain.models import NewConversation, NewHandoff
    from warmline.hub import service
    from warmline.hub.store.db import Database
    from warmline.storage.migrate import upgrade

    await upgrade(database_url)
    db = Database(database_url)
    out: dict[str, Any] = {"agents": [], "buyers": [], "handoffs": []}
    packet = {
        "reason": "purchase_intent",
        "summary": "Pricing for GX-220 needs live account data.",
        "product_family": "gearbox",
        "products": [{"sku": "GX-220", "name": "GX-220 helical gearbox", "family": "gearbox"}],
    }
    try:
        async with db.write() as tx:
            out["bot"] = await service.create_bot(tx, name="load-bot")
            for i in range(agents):
                _agent, token = await service.create_agent(tx, name=f"agent{i}", skills=["all"])
                out["agents"].append(token)
            for i in range(buyers):
                spec = NewConversation.model_validate(
                    {"buyer": {"name": f"Buyer {i}", "company": f"Co {i}"}, "subject": "load", "messages": []}
                )
                conversation, token = await service.create_conversation(tx, spec=spec)
                out["buyers"].append((conversation.id, token))
        for start in range(0, handoffs, 50):
            async with db.write() as tx:
                for i in range(start, min(handoffs, start + 50)):
                    spec = NewHandoff.model_validate(
                        {
                            "conversation": {
                                "buyer": {"name": f"H{i}", "company": f"Co {i}"},
                                "subject": "claim",
                                "messages": [{"author_kind": "buyer", "body": "price?"}],
                            },
                            "packet": packet,
                        }
                    )
                    out["handoffs"].append((await service.create_handoff(tx, spec=spec)).handoff.id)
    finally:
        await db.close()
    return out


# --- the phases -------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_delay_seconds(pid: int) -> float:
    """Time a process spent runnable but waiting for a CPU (/proc/PID/schedstat)."""
    with open(f"/proc/{pid}/schedstat") as f:
        return int(f.read().split()[1]) / 1e9


class StealSampler:
    """CPU time the hypervisor gave to others while this VM wanted it ("steal", /proc/stat),
    sampled every 100 ms: the total, and the worst 100 ms window (a stall no process in
    the VM can see from inside: every process is frozen alike)."""

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def read() -> float:
        with open("/proc/stat") as f:
            fields = f.readline().split()  # cpu user nice system idle iowait irq softirq steal
        return int(fields[8]) / os.sysconf("SC_CLK_TCK")

    def _run(self) -> None:
        last = self.read()
        while not self._stop.wait(self.interval):
            now = self.read()
            self.samples.append(now - last)
            last = now

    def __enter__(self) -> StealSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()


def pct(hist: Counter[int], p: float) -> float:
    """Percentile (ms) of a 0.1 ms-bucket histogram."""
    total = sum(hist.values())
    if not total:
        return float("nan")
    rank = p / 100 * (total - 1)
    seen = 0
    for bucket in sorted(hist):
        seen += hist[bucket]
        if seen > rank:
            return bucket / 10
    return max(hist) / 10


# --- buyers and claimers: lean raw-asyncio HTTP/1.1 clients -----------------------------------
#
# The load generator must not be the bottleneck: httpx spent 7-11 ms of client CPU per POST
# here (0.65-0.7 of a core for 60-100 msg/s on a 2-core machine, taken from the hub under test),
# and more once many requests were outstanding in its pool. These clients write one request
# per connection at a time and parse only the status line and the framing headers.


class BadResponse(ValueError):
    """The hub's answer could not be parsed as an HTTP/1.1 response we understand."""


class _Conn:
    __slots__ = ("idle_since", "reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.idle_since = 0.0

    def close(self) -> None:
        self.writer.close()


class RawHttpPool:
    """Keep-alive HTTP/1.1 connections to one hub: a free-list of idle ones, a new one whenever
    all are busy (open loop: a request never waits for another's answer), up to ``max_conns``."""

    IDLE_MAX = 30.0  # drop connections idle this long (the hub keeps them 75 s)

    def __init__(self, url: str, max_conns: int = 1000) -> None:
        host, port = url.removeprefix("http://").rstrip("/").split(":")
        self.host, self.port = host, int(port)
        self.host_header = f"{host}:{port}"
        self.max_conns = max_conns
        self.idle: list[_Conn] = []
        self.busy = 0
        self.opened = 0  # connections opened in all (for the report)
        self.waiters: list[asyncio.Future[_Conn | None]] = []

    async def _acquire(self) -> _Conn:
        now = time.monotonic()
        while self.idle:
            c = self.idle.pop()  # the most recently used: likeliest to be alive
            if c.reader.at_eof() or c.writer.is_closing() or now - c.idle_since > self.IDLE_MAX:
                c.close()
                continue
            self.busy += 1
            return c
        if self.busy >= self.max_conns:
            fut: asyncio.Future[_Conn | None] = asyncio.get_running_loop().create_future()
            self.waiters.append(fut)
            try:
                handed = await fut  # a connection handed over, or None: a slot freed, open one
            except asyncio.CancelledError:
                if fut.done() and not fut.cancelled():  # handed over just as we were cancelled
                    got = fut.result()
                    if got is None:
                        self._free_slot()
                    else:
                        self._release(got, True)
                raise
            if handed is not None:
                return handed  # still counted busy
        else:
            self.busy += 1
        try:
            reader, writer = await asyncio.open_connection(self.host, self.port)
        except BaseException:
            self._free_slot()
            raise
        self.opened += 1
        return _Conn(reader, writer)

    def _free_slot(self) -> None:
        while self.waiters:
            fut = self.waiters.pop(0)
            if not fut.done():
                fut.set_result(None)  # the slot passes to the waiter, which opens a connection
                return
        self.busy -= 1

    def _release(self, c: _Conn, reusable: bool) -> None:
        if not reusable:
            c.close()
            self._free_slot()
            return
        while self.waiters:
            fut = self.waiters.pop(0)
            if not fut.done():
                fut.set_result(c)
                return
        self.busy -= 1
        c.idle_since = time.monotonic()
        self.idle.append(c)

    async def request(self, head: bytes, body: bytes = b"") -> tuple[int, bytes]:
        """Send one request (``head`` without the final CRLF, Host and Content-Length are added)
        and return (status, body). Errors propagate: OSError, asyncio.IncompleteReadError (the
        hub closed mid-answer or before answering), BadResponse, TimeoutError."""
        c = await self._acquire()
        reusable = False
        try:
            c.writer.write(
                b"%s\r\nHost: %s\r\nContent-Length: %d\r\n\r\n%s"
                % (head, self.host_header.encode(), len(body), body)
            )
            status, data, reusable = await _read_response(c.reader)
            return status, data
        finally:
            self._release(c, reusable)

    def close(self) -> None:
        for c in self.idle:
            c.close()
        self.idle.clear()


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """Status, body, and whether the connection can carry another request."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head[:-4].split(b"\r\n")
    status_line = lines[0]
    if not status_line.startswith(b"HTTP/1.") or len(status_line) < 12:
        raise BadResponse(f"bad status line {status_line[:80]!r}")
    status = int(status_line[9:12])
    length = -1
    chunked = False
    keep = status_line.startswith(b"HTTP/1.1")
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
        elif name == b"connection":
            v = value.strip().lower()
            keep = v == b"keep-alive" or (keep and v != b"close")
    if status in (204, 304) or 100 <= status < 200:
        return status, b"", keep
    if chunked:
        parts = []
        while True:
            size_line = await reader.readuntil(b"\r\n")
            size = int(size_line.split(b";", 1)[0].strip(), 16)
            if size == 0:
                while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers, then the blank line
                    pass
                return status, b"".join(parts), keep
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)
    if length >= 0:
        return status, await reader.readexactly(length), keep
    return status, await reader.read(), False  # neither: the body runs to the close


async def post_load(
    urls: list[str], buyers: list[tuple[str, str]], rate: float, seconds: float, tag: str = "L"
) -> dict:
    acked = 0
    errors: Counter[str] = Counter()
    post_ms: list[float] = []
    interval = len(buyers) / rate  # each buyer's period
    t0 = time.monotonic() + 0.2
    pools = [RawHttpPool(u) for u in urls]
    late: list[float] = []

    async def send(pool: RawHttpPool, head: bytes, key: str) -> None:
        nonlocal acked
        body = b'{"body": "%s"}' % key.encode()
        start = time.perf_counter()
        try:
            async with asyncio.timeout(30):
                status, _ = await pool.request(head + b"\r\nIdempotency-Key: " + key.encode(), body)
            if status == 201:
                acked += 1
                post_ms.append((time.perf_counter() - start) * 1000)
            else:
                errors[str(status)] += 1
        except (OSError, EOFError, ValueError, asyncio.LimitOverrunError) as exc:  # timeouts are OSErrors
            errors[type(exc).__name__] += 1

    sends: list[asyncio.Task[None]] = []

    async def buyer(i: int, cid: str, token: str) -> None:
        """Open loop: each message leaves on schedule, whether or not the last one was answered."""
        pool = pools[i % len(pools)]
        head = (
            f"POST /v1/conversations/{cid}/messages HTTP/1.1\r\nAuthorization: Bearer {token}\r\n"
            "Content-Type: application/json"
        ).encode()
        n = 0
        while True:
            due = t0 + (i / len(buyers)) * interval + n * interval
            if due - t0 >= seconds:
                return
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                late.append(-delay)
            sends.append(asyncio.create_task(send(pool, head, f"{tag}{time.time_ns()}-{i}-{n}")))
            n += 1

    started = time.monotonic()
    await asyncio.gather(*[buyer(i, cid, tok) for i, (cid, tok) in enumerate(buyers)])
    offered = len(sends) / (time.monotonic() - started)
    await asyncio.gather(*sends)
    elapsed = time.monotonic() - started
    for p in pools:
        p.close()
    post_ms.sort()
    return {
        "acked": acked,
        "offered": offered,
        "rate": acked / elapsed,
        "errors": dict(errors),
        "post_p50": statistics.median(post_ms) if post_ms else float("nan"),
        "post_p99": post_ms[int(0.99 * (len(post_ms) - 1))] if post_ms else float("nan"),
        "late_sends": sum(1 for x in late if x > 0.01),
    }


async def claim_storm(urls: list[str], agents: list[str], handoffs: list[str], concurrency: int) -> dict:
    pools = [RawHttpPool(u, max_conns=concurrency) for u in urls]
    queue = list(handoffs)
    won = lost = 0
    errors: Counter[str] = Counter()

    async def claim(pool: RawHttpPool, hid: str, token: str) -> int:
        async with asyncio.timeout(30):
            status, _ = await pool.request(
                f"POST /v1/handoffs/{hid}/claim HTTP/1.1\r\nAuthorization: Bearer {token}".encode()
            )
        return status

    async def worker(w: int) -> None:
        nonlocal won, lost
        while queue:
            hid = queue.pop()
            # two specialists race for the same handoff, through different instances if there are two
            tries = [
                claim(pools[(w + k) % len(pools)], hid, agents[(2 * w + k) % len(agents)]) for k in range(2)
            ]
            for r in await asyncio.gather(*tries, return_exceptions=True):
                if isinstance(r, BaseException):
                    errors[type(r).__name__] += 1
                elif r == 200:
                    won += 1
                elif r == 409:
                    lost += 1
                else:
                    errors[str(r)] += 1

    started = time.monotonic()
    await asyncio.gather(*[worker(w) for w in range(concurrency // 2)])
    elapsed = time.monotonic() - started
    for p in pools:
        p.close()
    return {"won": won, "lost": lost, "claims_per_s": won / elapsed, "errors": dict(errors)}


def pgbench_baseline(database_url: str, *, clients: int, seconds: int) -> float | None:
    """The same server's raw conditional-UPDATE claim rate (transactions per second)."""
    pgbench = shutil.which("pgbench")
    if pgbench is None:
        return None
    import asyncio as _a

    _a.run(
        _admin(
            database_url,
            "DROP TABLE IF EXISTS bench_claims; "
            "CREATE TABLE bench_claims (id int PRIMARY KEY, status text NOT NULL, claimed_by int, "
            "claimed_at timestamptz); "
            "INSERT INTO bench_claims SELECT g, 'queued', NULL, NULL FROM generate_series(1, 100000) g;",
        )
    )
    out = subprocess.run(
        [
            pgbench,
            "-n",
            "-f",
            str(HERE / "claim.pgbench"),
            "-D",
            "n=100000",
            "-c",
            str(clients),
            "-j",
            "2",
            "-T",
            str(seconds),
            database_url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    m = re.search(r"tps = ([\d.]+)", out)
    _a.run(_admin(database_url, "DROP TABLE bench_claims"))
    return float(m.group(1)) if m else None


def run_config(name: str, args: argparse.Namespace) -> dict[str, Any]:
    engine, instances = name[:-1], int(name[-1])
    tmp = None
    if engine == "pg":
        dbname = f"warmline_load_{uuid.uuid4().hex[:8]}"
        asyncio.run(_admin(args.postgres, f'CREATE DATABASE "{dbname}"'))
        database_url = f"{args.postgres.rsplit('/', 1)[0]}/{dbname}"
    else:
        tmp = tempfile.mkdtemp(prefix="warmline-load-")
        database_url = f"sqlite:///{tmp}/warmline.db"
    hubs: list[Hub] = []
    workers: list[subprocess.Popen[str]] = []
    try:
        data = asyncio.run(
            seed(database_url, buyers=args.buyers, agents=max(2, args.claimers), handoffs=args.handoffs)
        )
        hubs = [Hub(database_url, f"hub{i}") for i in range(instances)]
        urls = [h.wait() for h in hubs]
        per_proc = [args.consoles // args.console_procs] * args.console_procs
        per_proc[0] += args.consoles - sum(per_proc)
        for count in per_proc:
            w = subprocess.Popen(
                [
                    sys.executable,
                    __file__,
                    "--role",
                    "consoles",
                    "--urls",
                    ",".join(urls),
                    "--tokens",
                    ",".join(data["agents"]),
                    "--count",
                    str(count),
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            workers.append(w)
        for w in workers:
            assert w.stdout is not None
            line = w.stdout.readline().strip()
            if line != "ready":
                raise RuntimeError(f"console process failed to connect: {line!r}")
        pids = {
            "hubs": [h.proc.pid for h in hubs],
            "consoles": [w.pid for w in workers],
            "buyers": [os.getpid()],
        }
        # Warm-up at the same rate, not counted (the consoles count only "L..." bodies): the
        # buyers' connections, the hub's token cache and statement caches, first-call code
        # paths. Without it the first ~0.7 s of a fresh hub answered POSTs in 25-75 ms,
        # which alone moved p99 of a 15 s run by 20-40 ms (printed below as "warm-up").
        warm = (
            _run_fast(post_load(urls, data["buyers"], args.rate, args.warmup, tag="W"))
            if args.warmup
            else None
        )
        cpu0 = {k: sum(cpu_seconds(p) for p in v) for k, v in pids.items()}
        waited0 = sum(run_delay_seconds(h.proc.pid) for h in hubs)
        wall0 = time.monotonic()
        buyers = post_load(urls, data["buyers"], args.rate, args.seconds)
        with StealSampler() as steal:
            load = _run_fast(buyers)
            time.sleep(args.grace)
        wall = time.monotonic() - wall0
        cpu = {k: (sum(cpu_seconds(p) for p in v) - cpu0[k]) / wall for k, v in pids.items()}
        hub_waited = (sum(run_delay_seconds(h.proc.pid) for h in hubs) - waited0) / wall
        hist: Counter[int] = Counter()
        received: list[int] = []
        ended = refused = 0
        for w in workers:
            assert w.stdin is not None and w.stdout is not None
            w.stdin.write("stop\n")
            w.stdin.flush()
            stats = json.loads(w.stdout.readline())
            w.wait(30)
            hist.update({int(k): v for k, v in stats["hist"].items()})
            received += stats["received"]
            ended += stats["ended"]
            refused += stats["refused"]
        rss = [h.peak_rss_mb() for h in hubs]
        claims = asyncio.run(claim_storm(urls, data["agents"], data["handoffs"], args.claimers))
        baseline = (
            pgbench_baseline(database_url, clients=args.claimers, seconds=args.pgbench_seconds)
            if engine == "pg"
            else None
        )
        expected = load["acked"] * args.consoles
        return {
            "config": f"{instances} × hub on {'PostgreSQL' if engine == 'pg' else 'SQLite'}",
            "consoles": args.consoles,
            "posted_per_s": load["rate"],
            "offered_per_s": load["offered"],
            "acked": load["acked"],
            "p50": pct(hist, 50),
            "p99": pct(hist, 99),
            "max": max(hist) / 10 if hist else float("nan"),
            "deliveries": sum(hist.values()),
            "missing": expected - sum(hist.values()),
            "post_p50": load["post_p50"],
            "post_p99": load["post_p99"],
            "late_sends": load["late_sends"],
            "errors": {
                **load["errors"],
                **({"streams_ended": ended} if ended else {}),
                **({"streams_refused": refused} if refused else {}),
                **claims["errors"],
            },
            "warmup": warm,
            "claims_per_s": claims["claims_per_s"],
            "claims_won_lost": (claims["won"], claims["lost"]),
            "pgbench_claims_per_s": baseline,
            "hub_peak_rss_mb": rss,
            "cpu_cores_used": cpu,
            "hub_cpu_wait": hub_waited,
            "steal_total_s": sum(steal.samples),
            "steal_worst_100ms": max(steal.samples, default=0.0),
        }
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
                w.wait()
        for h in hubs:
            h.stop()
        if engine == "pg":
            asyncio.run(_admin(args.postgres, f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


def _run_fast(coro: Any) -> Any:
    """``asyncio.run`` on uvloop when it is installed (it comes with uvicorn[standard])."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coro)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--consoles", type=int, default=500)
    p.add_argument("--rate", type=float, default=100.0, help="buyer messages per second, in total")
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--buyers", type=int, default=20)
    p.add_argument("--grace", type=float, default=2.0, help="seconds to wait for deliveries after the load")
    p.add_argument("--warmup", type=float, default=2.0, help="seconds of the same load first, not counted")
    p.add_argument("--console-procs", type=int, default=2)
    p.add_argument("--configs", default="pg1,pg2,sqlite1")
    p.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    p.add_argument("--handoffs", type=int, default=300, help="handoffs queued for the claim storm")
    p.add_argument("--claimers", type=int, default=8, help="concurrent claim requests (and pgbench clients)")
    p.add_argument("--pgbench-seconds", type=int, default=5)
    p.add_argument("--json", help="also write the results here")
    # internal: the console processes
    p.add_argument("--role", default="main", help=argparse.SUPPRESS)
    p.add_argument("--urls", help=argparse.SUPPRESS)
    p.add_argument("--tokens", help=argparse.SUPPRESS)
    p.add_argument("--count", type=int, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.role == "consoles":
        # uvloop when installed (the hub's own loop): the simulated consoles are load
        # generators sharing the hub's 2 cores, so they should cost as little CPU as possible
        _run_fast(consoles_role(args.urls.split(","), args.tokens.split(","), args.count))
        return

    print(f"load before: {os.getloadavg()}; {os.cpu_count()} CPUs", flush=True)
    print(
        f"{args.consoles} consoles over {args.console_procs} client processes, {args.buyers} buyers at "
        f"{args.rate:g} msg/s for {args.seconds:g} s; claim storm: {args.handoffs} handoffs, "
        f"{args.claimers} concurrent claims",
        flush=True,
    )
    results = []
    for name in args.configs.split(","):
        r = run_config(name.strip(), args)
        results.append(r)
        print(
            f"\n{r['config']}: offered {r['offered_per_s']:.1f} msg/s, "
            f"acknowledged {r['posted_per_s']:.1f}/s "
            f"({r['acked']} acked, "
            f"{r['late_sends']} sends >10 ms late)\n"
            f"  delivery POST start -> frame read, per (message, console): p50 {r['p50']:.1f} ms, "
            f"p99 {r['p99']:.1f} ms, max {r['max']:.1f} ms; {r['deliveries']} deliveries, "
            f"{r['missing']} missing\n"
            f"  POST answered: p50 {r['post_p50']:.1f} ms, p99 {r['post_p99']:.1f} ms"
            + (
                f" (warm-up before it, not counted: {r['warmup']['acked']} POSTs, "
                f"p50 {r['warmup']['post_p50']:.1f} ms, p99 {r['warmup']['post_p99']:.1f} ms)"
                if r["warmup"]
                else ""
            )
            + "\n"
            f"  claims/s {r['claims_per_s']:.0f} (won/lost {r['claims_won_lost']})"
            + (
                f"; pgbench raw conditional UPDATE {r['pgbench_claims_per_s']:.0f}/s"
                if r["pgbench_claims_per_s"]
                else ""
            )
            + f"\n  errors {r['errors'] or 'none'}; hub peak RSS "
            + ", ".join(f"{x:.0f} MiB" for x in r["hub_peak_rss_mb"])
            + "\n  CPU during the load (cores): "
            + ", ".join(f"{k} {v:.2f}" for k, v in r["cpu_cores_used"].items())
            + f"; hubs runnable but waiting for a CPU {r['hub_cpu_wait']:.2f} s per s"
            + f"\n  hypervisor steal: {r['steal_total_s']:.2f} s in all, worst 100 ms window "
            f"{r['steal_worst_100ms'] * 1000:.0f} ms (of {os.cpu_count() or 1} × 100 ms)",
            flush=True,
        )
    print(f"\nload after: {os.getloadavg()}", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
