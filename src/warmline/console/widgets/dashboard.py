"""The Dashboard window (View ▸ Dashboard, Ctrl+Shift+M): the seven handoff-quality measures
of ``GET /v1/metrics`` (docs/metrics.md) for the last N days, each tile against the previous
N days, and the daily series as a table (day, escalations, first-response p50/p90,
unnecessary and late rates).

Non-modal, read-only; it asks the hub again on Refresh (F5), when the period changes, and
every minute while shown. No charts yet: PySide6-Addons (QtCharts) and pyqtgraph are not
dependencies of the console.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

if TYPE_CHECKING:
    from warmline.console.session import Session

PERIODS = (("Last 7 days", 7), ("Last 30 days", 30), ("Last 90 days", 90))
REFRESH_MS = 60_000
DAILY_HEADERS = ("Day", "Escalations", "First reply p50", "p90", "Unnecessary", "Late (all)")


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    seconds = int(seconds)
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def percent(rate: dict[str, Any]) -> str:
    return "–" if rate.get("rate") is None else f"{100 * rate['rate']:.0f} %"


def mean(side: dict[str, Any]) -> str:
    return "–" if side.get("mean") is None else f"{side['mean']:.1f} / 5"


# tile name -> (title, value text, detail text), from one report
TILES: dict[str, tuple[str, Any, Any]] = {
    "first_response": (
        "Time to first response (p50)",
        lambda m: duration(m["time_to_first_response"]["p50_seconds"]),
        lambda m: (
            f"p90 {duration(m['time_to_first_response']['p90_seconds'])} · "
            f"n={m['time_to_first_response']['count']}"
        ),
    ),
    "repeated": (
        "Buyer had to repeat",
        lambda m: percent(m["buyer_repeated"]),
        lambda m: f"{m['buyer_repeated']['numerator']} of {m['buyer_repeated']['denominator']} resolved",
    ),
    "conversion": (
        "High-intent conversion",
        lambda m: percent(m["high_intent_conversion"]),
        lambda m: (
            f"{m['high_intent_conversion']['numerator']} of "
            f"{m['high_intent_conversion']['denominator']} ordered"
        ),
    ),
    "resolution": (
        "Resolution time (p50)",
        lambda m: duration(m["resolution_time"]["p50_seconds"]),
        lambda m: f"p90 {duration(m['resolution_time']['p90_seconds'])} · n={m['resolution_time']['count']}",
    ),
    "satisfaction": (
        "Rating: AI-assisted / not",
        lambda m: f"{mean(m['satisfaction']['ai_assisted'])} · {mean(m['satisfaction']['not_assisted'])}",
        lambda m: (
            f"n={m['satisfaction']['ai_assisted']['count']} / {m['satisfaction']['not_assisted']['count']}"
        ),
    ),
    "unnecessary": (
        "Judged unnecessary",
        lambda m: percent(m["unnecessary"]),
        lambda m: f"{m['unnecessary']['numerator']} of {m['unnecessary']['denominator']} resolved",
    ),
    "late": (
        "Failed, should have escalated earlier",
        lambda m: percent(m["late_among_failed"]),
        lambda m: f"{m['late_among_failed']['numerator']} of {m['late_among_failed']['denominator']} failed",
    ),
}


class Tile(QFrame):
    """One measure: its value now, and the previous period's value under it."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.title = QLabel(title)
        self.value = QLabel("…")
        font = self.value.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        self.value.setFont(font)
        self.detail = QLabel("")
        self.previous = QLabel("")
        self.previous.setEnabled(False)  # the palette's dimmed text: readable light and dark
        layout = QVBoxLayout(self)
        for w in (self.title, self.value, self.detail, self.previous):
            layout.addWidget(w)


class DashboardView(QDialog):
    """Tiles for the seven measures against the previous period, and the daily table."""

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.setObjectName("dashboardView")
        self.setWindowTitle("Dashboard — Warmline")
        self.setModal(False)
        self.resize(980, 640)
        self.current: dict[str, Any] | None = None
        self.previous: dict[str, Any] | None = None
        self.loads = 0
        self.error = ""

        self.period = QComboBox()
        for label, days in PERIODS:
            self.period.addItem(label, days)
        self.period.setCurrentIndex(1)
        self.period.currentIndexChanged.connect(self.refresh)
        self.refresh_button = QPushButton("&Refresh")
        self.refresh_button.setToolTip("Ask the hub again (F5)")
        self.refresh_button.clicked.connect(self.refresh)
        QShortcut(QKeySequence("F5"), self, activated=self.refresh)
        self.summary = QLabel("")
        top = QHBoxLayout()
        top.addWidget(self.period)
        top.addWidget(self.summary, 1)
        top.addWidget(self.refresh_button)

        self.tiles: dict[str, Tile] = {}
        grid = QGridLayout()
        for i, (name, (title, _v, _d)) in enumerate(TILES.items()):
            self.tiles[name] = Tile(title, self)
            grid.addWidget(self.tiles[name], i // 4, i % 4)

        self.daily = QTableWidget(0, len(DAILY_HEADERS))
        self.daily.setHorizontalHeaderLabels(DAILY_HEADERS)
        self.daily.verticalHeader().setVisible(False)
        self.daily.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.daily.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(grid)
        layout.addWidget(QLabel("Per day (newest first)"))
        layout.addWidget(self.daily, 1)

        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self.refresh)

    def days(self) -> int:
        return int(self.period.currentData())

    def windows(self, now: datetime | None = None) -> tuple[dict[str, str], dict[str, str]]:
        """This period and the one before it, as ``from``/``to`` query values (UTC)."""
        now = now or datetime.now(UTC)
        span = timedelta(days=self.days())
        this = {"from": (now - span).isoformat(), "to": now.isoformat()}
        before = {"from": (now - 2 * span).isoformat(), "to": (now - span).isoformat()}
        return this, before

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self.timer.start()
        self.refresh()

    def hideEvent(self, event: Any) -> None:
        self.timer.stop()
        super().hideEvent(event)

    def refresh(self) -> None:
        self.summary.setText("Loading…")
        self.session.spawn(self._load(), "dashboard")

    async def _get(self, params: dict[str, str]) -> dict[str, Any]:
        response = await self.session.client.http.get("/v1/metrics", params=params)
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data

    async def _load(self) -> None:
        this, before = self.windows()
        try:
            current = await self._get(this)
            previous = await self._get(before)
        except Exception as exc:  # shown, never raised into the loop
            self.error = str(exc)
            self.summary.setText(f"Could not load the metrics: {exc}")
            return
        self.error = ""
        self.show_reports(current, previous)

    def show_reports(self, current: dict[str, Any], previous: dict[str, Any]) -> None:
        self.current, self.previous = current, previous
        c = current["counts"]
        self.summary.setText(
            f"{c['escalated']} escalations · {c['resolved']} resolved · {c['reviewed']} reviewed · "
            f"{c['requeued']} requeued · {c['rated']} rated"
        )
        for name, (_title, value, detail) in TILES.items():
            tile = self.tiles[name]
            tile.value.setText(value(current))
            tile.detail.setText(detail(current))
            tile.previous.setText(f"previous {self.days()} days: {value(previous)}")
        days = list(reversed(current["daily"]))
        self.daily.setRowCount(len(days))
        for row, d in enumerate(days):
            cells = (
                d["day"],
                str(d["counts"]["escalated"]),
                duration(d["time_to_first_response"]["p50_seconds"]),
                duration(d["time_to_first_response"]["p90_seconds"]),
                percent(d["unnecessary"]),
                percent(d["late_among_failed"]["late_all"]),
            )
            for col, text in enumerate(cells):
                self.daily.setItem(row, col, QTableWidgetItem(text))
        self.loads += 1
