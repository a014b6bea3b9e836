"""Assistant panel (issue 5): request -> rendered card, and the event loop during a burst of 20.

    python benchmarks/assist_panel.py [--runs 30]

A real hub in its own process (SQLite, demo catalog) and the real console window offscreen
(qasync loop, MainWindow, Session, AssistantPanel). Figures:

* spec sheet and substitutes, one at a time: from ``panel.run_request`` to the first paint of
  the finished card's body (POST 202 -> assist.* events over SSE -> model -> card built ->
  painted). Baseline in the same run: the same lookup's raw catalog GET
  (``/v1/catalog/products/{sku}``, ``.../substitutes?constraint=...``) on the same loop.
* burst: 20 lookups started at once while text is typed into the composer; the largest
  event-loop stall seen by (a) a QTimer asking for 5 ms ticks (its lateness: any Qt or
  Python work that blocks the GUI thread), (b) every asyncio callback timed (qasync runs
  them as asyncio Handles), and the keystrokes lost (composer text compared).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

import httpx
import qasync
from event_delivery import ServerProcess, cli, free_port
from PySide6.QtCore import QElapsedTimer, QEvent, QObject, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from console.hubdata import conversation, packet
from warmline.console.app import close_qasync_loop, install_asyncgen_hooks
from warmline.console.client import HubClient
from warmline.console.session import Session
from warmline.console.widgets.main_window import MainWindow
from warmline.domain.assist import AssistKind, AssistRequest
from warmline.domain.models import Event, EventType

CATALOG_MAIN = (
    "import asyncio; from warmline.catalog.demo import ensure_demo_catalog; "
    "asyncio.run(ensure_demo_catalog({url!r}))"
)
SPEC_SKUS = ["GX-240", "GX-220", "GX-200", "GX-180"]
SUBS = ("GX-220", ["torque>=180Nm", "ip>=65"])


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))]


def line(name: str, ms: list[float]) -> str:
    return f"{name:<44} n={len(ms):>3}  p50 {statistics.median(ms):7.1f} ms  p95 {pct(ms, 95):7.1f} ms"


class FirstPaint(QObject):
    """Records when a widget is painted next (after arm())."""

    def __init__(self) -> None:
        super().__init__()
        self.at: float | None = None

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and self.at is None:
            self.at = time.perf_counter()
        return False


async def until(cond: Any, timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0.001)


TAIL: dict[str, list[float]] = {}  # kind -> ms from assist.completed received to the card painted
ARRIVED: dict[str, float] = {}  # job id -> perf_counter when its assist.completed reached the session


async def measure_one(window: MainWindow, request: AssistRequest) -> float:
    panel = window.assistant
    t0 = time.perf_counter()
    key = panel.run_request(request)
    assert key is not None
    await until(lambda: key in panel.cards)
    card = panel.cards[key]
    painted = FirstPaint()
    await until(lambda: card.entry.status in ("done", "failed", "refused") and panel.settled)
    assert card.entry.status == "done", card.entry
    card.body.installEventFilter(painted)
    card.body.update()
    await until(lambda: painted.at is not None)
    card.body.removeEventFilter(painted)
    assert painted.at is not None and card.entry.job_id is not None
    TAIL.setdefault(request.kind.value, []).append((painted.at - ARRIVED[card.entry.job_id]) * 1000)
    return (painted.at - t0) * 1000


async def bench(url: str, token: str, runs: int, *, gc_freeze: bool = False) -> dict[str, Any]:
    session = Session(HubClient(url, token))
    session.auto_assist_delay = 0
    apply_event = session.apply_event

    def timed_apply(event: Event) -> None:  # the console's own share starts here
        if event.type == EventType.ASSIST_COMPLETED:
            ARRIVED[event.data["job"]["id"]] = time.perf_counter()
        apply_event(event)

    session.apply_event = timed_apply  # type: ignore[method-assign]
    window = MainWindow(session, hub_url=url)
    window.show()
    session.start()
    out: dict[str, Any] = {}
    try:
        await until(lambda: session.current is not None and len(window.assistant.cards) >= 1)
        await until(lambda: all(c.entry.finished for c in window.assistant.cards.values()))
        window.claim_button.click()
        await until(lambda: window.composer.edit.isEnabled())
        if gc_freeze:
            gc.collect()
            gc.freeze()  # start-up objects leave the collector's view: shorter full collections

        raw = httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"})
        spec_ms, subs_ms, spec_raw, subs_raw = [], [], [], []
        for i in range(runs):
            sku = SPEC_SKUS[i % len(SPEC_SKUS)]
            spec_ms.append(await measure_one(window, AssistRequest(kind=AssistKind.SPEC, skus=[sku])))
            t = time.perf_counter()
            (await raw.get(f"/v1/catalog/products/{sku}")).raise_for_status()
            spec_raw.append((time.perf_counter() - t) * 1000)
            req = AssistRequest(kind=AssistKind.SUBSTITUTES, skus=[SUBS[0]], constraints=SUBS[1])
            subs_ms.append(await measure_one(window, req))
            t = time.perf_counter()
            r = await raw.get(f"/v1/catalog/products/{SUBS[0]}/substitutes", params={"constraint": SUBS[1]})
            r.raise_for_status()
            subs_raw.append((time.perf_counter() - t) * 1000)
        await raw.aclose()
        out.update(spec=spec_ms, spec_raw=spec_raw, subs=subs_ms, subs_raw=subs_raw)
        if os.environ.get("ASSIST_BENCH_PROFILE"):
            import cProfile
            import pstats

            prof = cProfile.Profile()
            prof.enable()
            out["burst"] = await burst(window)
            prof.disable()
            pstats.Stats(prof).sort_stats("tottime").print_stats(25)
        else:
            out["burst"] = await burst(window)
        out["idle"] = await probe_only(1.0)
    finally:
        window.close()
        await session.aclose()
    return out


class LagProbe:
    """A 5 ms QTimer measuring its own lateness, and every asyncio callback timed."""

    def __init__(self) -> None:
        self.timer = QTimer()
        self.timer.setInterval(5)
        self.clock = QElapsedTimer()
        self.last = 0
        self.max_gap_ms = 0.0
        self.callbacks = 0
        self.slow_callbacks = 0
        self.max_callback_ms = 0.0
        self.timer.timeout.connect(self._tick)
        self._orig = asyncio.events.Handle._run
        self.max_gc_ms = 0.0
        self.max_callback_cpu_ms = 0.0  # CPU time of the GUI thread: the work, without preemption
        self.slow_cpu_callbacks = 0
        self.max_gap_cpu_ms = 0.0
        self.last_cpu = time.thread_time()
        self._gc_t = 0.0

    def _gc(self, phase: str, _info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_t = time.perf_counter()
        else:
            self.max_gc_ms = max(self.max_gc_ms, (time.perf_counter() - self._gc_t) * 1000)

    def _tick(self) -> None:
        now = self.clock.nsecsElapsed()
        gap = (now - self.last) / 1e6 - 5.0
        self.max_gap_ms = max(self.max_gap_ms, gap)
        self.last = now
        cpu = time.thread_time()
        if gap > 0:  # late: how much of the lateness was this thread working (not preempted)?
            self.max_gap_cpu_ms = max(self.max_gap_cpu_ms, min(gap, (cpu - self.last_cpu) * 1000))
        self.last_cpu = cpu

    def start(self) -> None:
        probe = self
        orig = self._orig

        def timed(handle: asyncio.events.Handle) -> None:
            t = time.perf_counter()
            cpu = time.thread_time()
            try:
                orig(handle)
            finally:
                ms = (time.perf_counter() - t) * 1000
                cpu_ms = (time.thread_time() - cpu) * 1000
                probe.max_callback_cpu_ms = max(probe.max_callback_cpu_ms, cpu_ms)
                if cpu_ms > 16:
                    probe.slow_cpu_callbacks += 1
                probe.callbacks += 1
                probe.max_callback_ms = max(probe.max_callback_ms, ms)
                if ms > 16:
                    probe.slow_callbacks += 1

        asyncio.events.Handle._run = timed  # type: ignore[method-assign]
        gc.callbacks.append(self._gc)
        self.clock.start()
        self.last = self.clock.nsecsElapsed()
        self.last_cpu = time.thread_time()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()
        asyncio.events.Handle._run = self._orig  # type: ignore[method-assign]
        gc.callbacks.remove(self._gc)


async def probe_only(seconds: float) -> dict[str, float]:
    probe = LagProbe()
    probe.start()
    await asyncio.sleep(seconds)
    probe.stop()
    return {"max_gap_ms": probe.max_gap_ms, "max_callback_ms": probe.max_callback_ms}


async def burst(window: MainWindow) -> dict[str, Any]:
    panel = window.assistant
    kinds = [
        AssistRequest(kind=AssistKind.SPEC, skus=[SPEC_SKUS[0]]),
        AssistRequest(kind=AssistKind.SUBSTITUTES, skus=[SUBS[0]], constraints=SUBS[1]),
        AssistRequest(kind=AssistKind.ACCESSORIES, skus=["GX-240"]),
        AssistRequest(kind=AssistKind.COMPARE, skus=["GX-220", "GX-240"]),
    ]
    window.composer.edit.clear()
    window.composer.edit.setFocus()
    typed = "Thanks Maja - checking the GX-240 against 180 N·m and IP65 now. " * 3
    probe = LagProbe()
    probe.start()
    t0 = time.perf_counter()
    model = panel.model
    keys = [panel.run_request(kinds[i % len(kinds)]) for i in range(20)]
    for i in range(0, len(typed), 6):  # typing while the jobs run: 6 keys every 10 ms
        QTest.keyClicks(window.composer.edit, typed[i : i + 6])
        await asyncio.sleep(0.01)
    try:
        await until(
            lambda: panel.settled and all(model.entry(k).finished for k in keys),
            60,
        )
    except TimeoutError:
        print([(model.entry(k).status, model.entry(k).job_id) for k in keys])
        raise
    total = (time.perf_counter() - t0) * 1000
    await asyncio.sleep(0.05)
    probe.stop()
    return {
        "total_ms": total,
        "done": sum(model.entry(k).status == "done" for k in keys),
        "lost_keys": len(typed) - len(window.composer.edit.toPlainText()),
        "text_equal": window.composer.edit.toPlainText() == typed,
        "max_gap_ms": probe.max_gap_ms,
        "max_gap_cpu_ms": probe.max_gap_cpu_ms,
        "max_callback_ms": probe.max_callback_ms,
        "slow_callbacks": probe.slow_callbacks,
        "max_gc_ms": probe.max_gc_ms,
        "max_callback_cpu_ms": probe.max_callback_cpu_ms,
        "slow_cpu_callbacks": probe.slow_cpu_callbacks,
        "callbacks": probe.callbacks,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument(
        "--gc-freeze", action="store_true", help="gc.freeze() once the window is up (what-if for the app)"
    )
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="assist-bench-"))
    url_db = f"sqlite:///{tmp / 'hub.db'}"
    # the catalog loads in a child process: this one holds only what a console holds
    # (SQLAlchemy and the catalog in here would make every garbage collection slower)
    subprocess.run([sys.executable, "-c", CATALOG_MAIN.format(url=url_db)], check=True, capture_output=True)
    token = cli("agents", "add", "bench", "--skills", "all", "--database-url", url_db)
    bot = cli("bots", "add", "bench-bot", "--database-url", url_db)
    port = free_port()
    server = ServerProcess(
        [sys.executable, "-m", "warmline.cli", "hub", "--port", str(port), "--database-url", url_db,
         "--log-level", "warning"],
        port,
        "/v1/health",
    )  # fmt: skip
    url = server.start()
    try:
        p = packet(company="Bench AB")
        p.update(
            products=[{"sku": "GX-240", "name": "Helical washdown gearbox", "family": "gearbox"}],
            documents=[],
            quantities=[],
        )
        r = httpx.post(
            f"{url}/v1/handoffs",
            json={"conversation": conversation("Bench AB"), "packet": p},
            headers={"Authorization": f"Bearer {bot}", "Idempotency-Key": uuid.uuid4().hex},
        )
        r.raise_for_status()
        app = QApplication.instance() or QApplication([])
        app.setQuitOnLastWindowClosed(False)
        loop = qasync.QEventLoop(app)
        asyncio.set_event_loop(loop)
        install_asyncgen_hooks(loop)
        try:
            res = loop.run_until_complete(bench(url, token, args.runs, gc_freeze=args.gc_freeze))
        finally:
            close_qasync_loop(loop)
    finally:
        server.stop()
    print(f"load average after: {os.getloadavg()}; gc.freeze(): {args.gc_freeze}")
    print(line("spec sheet: request -> card painted", res["spec"]))
    print(line("  console share: event received -> painted", TAIL["spec"]))
    print(line("  baseline: GET /v1/catalog/products/{sku}", res["spec_raw"]))
    print(line("substitutes: request -> card painted", res["subs"]))
    print(line("  console share: event received -> painted", TAIL["subs"]))
    print(line("  baseline: GET .../substitutes?constraint=", res["subs_raw"]))
    b = res["burst"]
    print(
        f"burst of 20: all finished in {b['total_ms']:.0f} ms, {b['done']}/20 done; "
        f"keystrokes lost {b['lost_keys']} (text equal: {b['text_equal']})"
    )
    print(
        f"  largest stall: QTimer lateness {b['max_gap_ms']:.1f} ms; largest asyncio callback "
        f"{b['max_callback_ms']:.1f} ms; callbacks > 16 ms: {b['slow_callbacks']} of {b['callbacks']}; "
        f"longest garbage collection {b['max_gc_ms']:.1f} ms"
    )
    print(
        f"  in CPU time of the GUI thread (without preemption by other processes): largest stall "
        f"{b['max_gap_cpu_ms']:.1f} ms; largest asyncio callback {b['max_callback_cpu_ms']:.1f} ms, "
        f"over 16 ms: {b['slow_cpu_callbacks']}"
    )
    idle = res["idle"]
    print(
        f"  idle baseline (1 s, same window): QTimer lateness {idle['max_gap_ms']:.1f} ms; "
        f"largest callback {idle['max_callback_ms']:.1f} ms"
    )


if __name__ == "__main__":
    main()
