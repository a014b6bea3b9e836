"""Console queue at 10,000 handoffs: re-filter per keystroke, and start-up to first painted queue.

Targets (issue 2): re-filter after one keystroke <= 16 ms; console start to first painted
queue with 10,000 queued <= 1.5 s; the filter itself <= 2x a plain Python filter over the
same rows. Baselines in the same run: that plain Python filter, Qt's stock
QSortFilterProxyModel.setFilterFixedString over the same model (per keystroke, with repaint),
and the bare GET /v1/handoffs of the same 10,000 rows with httpx (start-up floor).

    QT_QPA_PLATFORM=offscreen python benchmarks/console_queue.py [--rows 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import httpx
import qasync
from PySide6.QtCore import QEvent, QObject, QSortFilterProxyModel, Qt
from PySide6.QtWidgets import QApplication

from warmline.console.app import close_qasync_loop, install_asyncgen_hooks
from warmline.console.client import HubClient
from warmline.console.models.queue_model import FilterRole, QueueModel
from warmline.console.models.queue_proxy import QueueFilterProxy
from warmline.console.session import Session
from warmline.console.widgets.main_window import MainWindow
from warmline.console.widgets.queue_view import QueueView
from warmline.domain.models import (
    Agent,
    HandoffStatus,
    HandoffSummary,
    NewConversation,
    NewHandoff,
    TranscriptMessage,
)
from warmline.domain.packet import HandoffPacket, Priority, ReasonCategory

FAMILIES = {"gearbox": ["drives"], "pump": ["pumps"], "valve": ["pneumatics"], "sensor": ["sensors"]}
WORDS = ["Nordic", "Baltic", "Rhein", "Iberia", "Tatra", "Acme", "Alpine", "Danube", "Celtic", "Adriatic"]
KINDS = ["Pulp", "Mills", "Water", "Chemie", "Foods", "Steel", "Paper", "Energy", "Mining", "Logistics"]


def company(i: int) -> str:
    return f"{WORDS[i % 10]} {KINDS[(i // 10) % 10]} {i}"


def summaries(n: int) -> list[HandoffSummary]:
    rng = random.Random(7)
    now = datetime.now(UTC)
    out = []
    for i in range(n):
        family = rng.choice(list(FAMILIES))
        out.append(
            HandoffSummary(
                id=f"h{i:06d}",
                conversation_id=f"c{i:06d}",
                status=HandoffStatus.QUEUED,
                priority=rng.choice(list(Priority)),
                reason=rng.choice(list(ReasonCategory)),
                summary="Pricing and lead time need live account data.",
                product_family=family,
                required_skills=FAMILIES[family] + (["quotes"] if rng.random() < 0.3 else []),
                buyer_company=company(i),
                created_at=now - timedelta(seconds=rng.uniform(0, 86400)),
            )
        )
    return out


class ViewportPaints(QObject):
    """Counts paint events of a view's viewport, so a timing can wait for the repaint itself."""

    def __init__(self, view: QueueView) -> None:
        super().__init__(view)
        self.count = 0
        view.viewport().installEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.count += 1
        return False


def settle(paints: ViewportPaints, before: int, t0: float, deadline_s: float = 0.25) -> float | None:
    """Process events until the viewport repaints; ms from ``t0``, or None if nothing repainted."""
    end = time.perf_counter() + deadline_s
    QApplication.processEvents()
    while paints.count == before and time.perf_counter() < end:
        QApplication.processEvents()
    return (time.perf_counter() - t0) * 1000 if paints.count > before else None


def keystroke_bench(n: int) -> None:
    agent = Agent(id="a", name="anna", skills=["drives", "pumps", "quotes"], created_at=datetime.now(UTC))
    model = QueueModel()
    model.set_agent(agent)
    rows = summaries(n)
    t = time.perf_counter()
    model.apply_many(rows)
    load_ms = (time.perf_counter() - t) * 1000

    ours = QueueFilterProxy()
    ours.setSourceModel(model)
    view = QueueView()
    view.setModel(ours)
    view.apply_column_widths()
    view.resize(900, 700)
    view.show()
    QApplication.processEvents()
    paints = ViewportPaints(view)
    unpainted = 0

    text = "nordic pulp 1"
    ours_ms: list[float] = []
    filter_only_ms: list[float] = []
    steps = [text[:k] for k in range(1, len(text) + 1)] + [text[:k] for k in range(len(text) - 1, -1, -1)]
    for prefix in steps:  # typing narrows, backspacing widens again
        before = paints.count
        t = time.perf_counter()
        ours.set_text(prefix)
        filtered = time.perf_counter()
        ms = settle(paints, before, t)
        if ms is None:  # the shown rows did not change (e.g. typing a space): nothing to paint
            unpainted += 1
        else:
            ours_ms.append(ms)
        filter_only_ms.append((filtered - t) * 1000)
    view.hide()

    # Baseline the issue asks for: a plain Python filter over the same rows and the same
    # precomputed search text (what any list-based UI would do per keystroke).
    plain_rows = [model.row_at(i) for i in range(model.rowCount())]
    plain_ms: list[float] = []
    for prefix in steps:
        t = time.perf_counter()
        words = prefix.lower().split()
        kept = [r for r in plain_rows if (r.takeable or r.mine) and all(w in r.search for w in words)]
        plain_ms.append((time.perf_counter() - t) * 1000)
    assert kept is not None

    stock = QSortFilterProxyModel()
    stock.setSourceModel(model)
    stock.setFilterRole(FilterRole)
    stock.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    stock_view = QueueView()
    stock_view.setModel(stock)
    stock_view.resize(900, 700)
    stock_view.show()
    QApplication.processEvents()
    stock_paints = ViewportPaints(stock_view)
    stock_ms: list[float] = []
    for k in range(1, len(text) + 1):
        before = stock_paints.count
        t = time.perf_counter()
        stock.setFilterFixedString(text[:k])
        ms = settle(stock_paints, before, t)
        if ms is None:
            unpainted += 1
        else:
            stock_ms.append(ms)
    stock_view.close()
    stock_view.setModel(None)
    stock.setSourceModel(None)
    view.show()
    QApplication.processEvents()

    before = paints.count
    t = time.perf_counter()
    ours.set_only_expertise(False)
    toggle_ms = settle(paints, before, t) or float("nan")
    ticks = []
    for _ in range(10):
        before = paints.count
        t = time.perf_counter()
        model.tick()
        ms = settle(paints, before, t)
        if ms is not None:
            ticks.append(ms)

    print(f"rows: {n}")
    print(f"  initial load into the model (one batch):        {load_ms:7.1f} ms")
    print(
        f"  re-filter + repaint per keystroke, ours m/max: {statistics.median(ours_ms):7.1f} / "
        f"{max(ours_ms):.1f} ms   (target <= 16 ms)"
    )
    print(
        f"    of which the filter itself, median/max:        {statistics.median(filter_only_ms):7.1f} / "
        f"{max(filter_only_ms):.1f} ms"
    )
    print(
        f"  baseline: plain Python filter, same rows m/max:  {statistics.median(plain_ms):7.1f} / "
        f"{max(plain_ms):.1f} ms   (target: ours <= 2x this)"
    )
    ratio = statistics.median(filter_only_ms) / statistics.median(plain_ms)
    print(f"    ratio, filter itself / plain (median):         {ratio:7.2f}x")
    print(
        f"  baseline: stock proxy setFilterFixedString + repaint m/max: {statistics.median(stock_ms):5.1f} / "
        f"{max(stock_ms):.1f} ms"
    )
    print(f"  toggle My expertise -> All, + repaint:          {toggle_ms:7.1f} ms")
    print(f"  age tick (dataChanged on the age column + paint): {statistics.median(ticks):6.1f} ms median")
    print(
        "  (timings with 'repaint' run until the viewport has repainted; steps that changed nothing "
        f"on screen and so never repainted, left out: {unpainted})"
    )
    view.close()


def seed_hub(n: int):
    from warmline.hub import service
    from warmline.hub.embedded import EmbeddedHub

    folder = tempfile.mkdtemp(prefix="warmline-bench-")
    hub = EmbeddedHub(database_url=f"sqlite:///{folder}/bench.db")
    hub.start()
    _agent, token = hub.create_agent("anna", ["drives", "pumps", "quotes"])
    rng = random.Random(11)
    t = time.perf_counter()
    batch = 500
    for start in range(0, n, batch):

        async def write(tx, start=start):
            for i in range(start, min(n, start + batch)):
                family = rng.choice(list(FAMILIES))
                spec = NewHandoff(
                    conversation=NewConversation(
                        messages=[TranscriptMessage(author_kind="buyer", body=f"Need a {family} quote.")]
                    ),
                    packet=HandoffPacket(
                        reason=rng.choice(list(ReasonCategory)),
                        summary="Pricing and lead time need live account data.",
                        product_family=family,
                        account={"company": company(i)},
                    ),
                    required_skills=FAMILIES[family],
                    priority=rng.choice(list(Priority)),
                    announce=False,
                )
                await service.create_handoff(tx, spec=spec)

        hub.write(write, timeout=600)
    print(f"  (seeded {n} handoffs in {time.perf_counter() - t:.1f} s)")
    return hub, token


class PaintWatch(QObject):
    """Notes the first paint of the queue after it has rows."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.painted_at: float | None = None

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.Paint
            and self.painted_at is None
            and self.window.queue_panel.proxy.rowCount() > 0
        ):
            self.painted_at = time.perf_counter()
        return False


def startup_bench(n: int, app: QApplication) -> None:
    hub, token = seed_hub(n)
    try:
        t = time.perf_counter()
        r = httpx.get(
            f"{hub.base_url}/v1/handoffs",
            params={"status": "queued,claimed", "limit": 20000},
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        )
        bare_ms = (time.perf_counter() - t) * 1000
        assert r.status_code == 200 and len(r.json()["items"]) == n, r.text[:200]

        loop = qasync.QEventLoop(app)
        asyncio.set_event_loop(loop)
        install_asyncgen_hooks(loop)

        async def measure() -> tuple[float, float]:
            t0 = time.perf_counter()
            session = Session(HubClient(hub.base_url, token))
            window = MainWindow(session, hub_url=hub.base_url)
            watch = PaintWatch(window)
            window.queue_panel.table.viewport().installEventFilter(watch)
            window.show()
            session.start()
            while watch.painted_at is None:
                await asyncio.sleep(0.001)
            first_paint = (watch.painted_at - t0) * 1000
            rows = window.queue_panel.proxy.rowCount()
            while window.card.handoff is None:
                await asyncio.sleep(0.005)
            card = (time.perf_counter() - t0) * 1000
            window.close()
            await session.aclose()
            window.deleteLater()
            print(f"  queue rows shown (My expertise): {rows}")
            return first_paint, card

        first_paint, card = loop.run_until_complete(measure())
        close_qasync_loop(loop)
        print(f"  baseline: bare GET /v1/handoffs ({n} rows, httpx): {bare_ms:7.1f} ms")
        print(
            f"  console start -> first painted queue:            {first_paint:7.1f} ms   (target <= 1500 ms)"
        )
        print(f"  console start -> first handoff card rendered:    {card:7.1f} ms")
    finally:
        hub.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10000)
    parser.add_argument("--skip-startup", action="store_true", help="model/filter figures only (no hub)")
    args = parser.parse_args()
    app = QApplication(sys.argv[:1])
    app.setQuitOnLastWindowClosed(False)
    keystroke_bench(args.rows)
    if not args.skip_startup:
        print("start-up against an embedded hub (SQLite):")
        startup_bench(args.rows, app)


if __name__ == "__main__":
    main()
