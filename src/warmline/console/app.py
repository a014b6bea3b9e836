"""qasync bootstrap for the console, with one way in and one way out.

In: QApplication -> qasync.QEventLoop -> window + session -> session.start().
Out (the only path): window closeEvent -> exit event -> cancel and await every task ->
close the HTTP client -> return the exit code.
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import os
import signal
import sys
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import qasync
import shiboken6
from PySide6.QtCore import QEvent, QMessageLogContext, QObject, Qt, QTimer, QtMsgType, qInstallMessageHandler
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from warmline.console.client import ConnectionState, HubClient
from warmline.console.session import Session
from warmline.console.widgets.main_window import MainWindow

LoopHook = Callable[[asyncio.AbstractEventLoop], Awaitable[Any] | None]


# Harmless notices of Qt's offscreen platform (used for --screenshot and tests); every other
# Qt message still goes to stderr.
_QUIET_QT_MESSAGES = ("This plugin does not support propagateSizeHints()",)


def _qt_message(mode: QtMsgType, context: QMessageLogContext, message: str) -> None:
    if message in _QUIET_QT_MESSAGES:
        return
    print(message, file=sys.stderr)


def _application(offscreen: bool) -> QApplication:
    existing = QApplication.instance()
    if existing is not None:
        return existing  # type: ignore[return-value]
    if offscreen:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    qInstallMessageHandler(_qt_message)
    # exact fractional scale factors on high-DPI screens (125 %, 150 %), not rounded ones
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    app = QApplication([sys.argv[0] if sys.argv else "warmline"])
    app.setApplicationName("Warmline")
    app.setOrganizationName("Warmline")
    app.setDesktopFileName("warmline")  # matches packaging/linux/warmline.desktop (Wayland icon)
    return app


def run_console(
    hub_url: str,
    token: str,
    *,
    screenshot: Path | None = None,
    on_loop_started: LoopHook | None = None,
    screenshot_timeout: float = 30.0,
    select: str | None = None,
    theme: str | None = None,
) -> int:
    """Run the console until its window closes; returns the process exit code.

    ``theme`` ("light", "dark" or "system") re-themes the window (screenshots of both).

    ``on_loop_started(loop)`` runs once the qasync loop is up (the demo starts its
    simulator there); if it returns an awaitable, that runs as a task alongside the
    console and is cancelled and awaited on shutdown.
    """
    app = _application(offscreen=screenshot is not None)
    # The window closing must not stop Qt under the asyncio loop; the shutdown path does.
    app.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    install_asyncgen_hooks(loop)
    try:
        return loop.run_until_complete(
            console_main(
                hub_url,
                token,
                screenshot=screenshot,
                on_loop_started=on_loop_started,
                screenshot_timeout=screenshot_timeout,
                select=select,
                window_ready=_themed(app, theme) if theme else None,
            )
        )
    finally:
        close_qasync_loop(loop)


def _themed(app: QApplication, theme: str) -> Callable[[MainWindow], None]:
    """A window_ready hook applying a theme (palette + style sheet) without stored settings."""

    def apply(window: MainWindow) -> None:
        from warmline.console.desktop.appearance import dark_palette, light_palette, resolve_theme
        from warmline.console.theme import style_sheet, use_theme_colors

        resolved = resolve_theme(theme, app)
        use_theme_colors(resolved)
        app.setStyle("Fusion")
        app.setPalette(dark_palette() if resolved == "dark" else light_palette())
        window.setStyleSheet(style_sheet(resolved))

    return apply


def install_asyncgen_hooks(loop: asyncio.AbstractEventLoop) -> None:
    """Give async generators a finalizer on this loop, as asyncio's own run_forever does.

    qasync's run_forever skips this, so an abandoned generator (httpx's byte iterators
    under an SSE stream that was cut) would be closed synchronously by the garbage
    collector, outside any loop, and fail there.
    """
    firstiter = getattr(loop, "_asyncgen_firstiter_hook", None)
    finalizer = getattr(loop, "_asyncgen_finalizer_hook", None)
    if firstiter is not None and finalizer is not None:
        sys.set_asyncgen_hooks(firstiter=firstiter, finalizer=finalizer)


def close_qasync_loop(loop: qasync.QEventLoop) -> None:
    """Close the loop and destroy its Qt timer object here, on the GUI thread.

    qasync keeps pending call_later timers (e.g. an HTTP read timeout) on one QObject that
    Python owns. Left to the garbage collector, it can be destroyed on another thread
    (the embedded hub's), which cannot stop its timers ("Timers cannot be stopped from
    another thread"); the next timer tick then hits freed memory and Qt crashes.
    """
    if not loop.is_closed():
        loop.run_until_complete(loop.shutdown_asyncgens())
    sys.set_asyncgen_hooks(firstiter=None, finalizer=None)
    loop.close()
    asyncio.set_event_loop(None)
    timer = getattr(loop, "_timer", None)
    if timer is not None and shiboken6.isValid(timer):
        shiboken6.delete(timer)
    gc.collect()


async def console_main(
    hub_url: str,
    token: str,
    *,
    screenshot: Path | None = None,
    on_loop_started: LoopHook | None = None,
    screenshot_timeout: float = 30.0,
    window_ready: Callable[[MainWindow], None] | None = None,
    select: str | None = None,
) -> int:
    """The console's life inside a running loop (tests drive this one directly)."""
    client = HubClient(hub_url, token)
    session = Session(client)
    window = MainWindow(session, hub_url=hub_url)
    closed = asyncio.Event()
    window.closed.connect(closed.set)
    if window_ready is not None:
        window_ready(window)  # before the session starts: the desktop shell taps its events
    window.show()
    session.start()
    loop = asyncio.get_running_loop()
    restore_signals = _close_on_signals(loop, window)
    if os.environ.get("WARMLINE_REPORT_PAINTED"):
        _report_painted(window, close=os.environ["WARMLINE_REPORT_PAINTED"] == "exit")

    side_tasks: list[asyncio.Task[Any]] = []
    if on_loop_started is not None:
        result = on_loop_started(asyncio.get_running_loop())
        if inspect.isawaitable(result):
            side_tasks.append(asyncio.ensure_future(result))
    outcome = {"code": 0}
    if screenshot is not None:
        side_tasks.append(
            asyncio.ensure_future(
                _screenshot(window, session, screenshot, screenshot_timeout, outcome, select=select)
            )
        )

    await closed.wait()

    restore_signals()
    window.hide()
    for task in side_tasks:
        task.cancel()
    results = await asyncio.gather(*side_tasks, return_exceptions=True)
    await session.aclose()
    # Destroy the window (and the session it owns) here, on the GUI thread, not in some later GC.
    shiboken6.delete(window)
    for r in results:
        if isinstance(r, BaseException) and not isinstance(r, asyncio.CancelledError):
            print(f"warmline console: background task failed: {r!r}", file=sys.stderr)
            outcome["code"] = outcome["code"] or 1
    return outcome["code"]


class _PaintProbe(QObject):
    """benchmarks/app_start.py: print one line when the queue is first painted with rows."""

    def __init__(self, window: MainWindow, close: bool) -> None:
        super().__init__(window)
        self.window, self.close = window, close

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and self.window.queue_panel.proxy.rowCount() > 0:
            obj.removeEventFilter(self)
            print("warmline: queue painted", flush=True)
            if self.close:
                QTimer.singleShot(0, self.window.close)
        return False


def _report_painted(window: MainWindow, *, close: bool) -> None:
    window.queue_panel.table.viewport().installEventFilter(_PaintProbe(window, close))


def _close_on_signals(loop: asyncio.AbstractEventLoop, window: MainWindow) -> Callable[[], None]:
    """Ctrl+C / SIGTERM close the window, i.e. take the one shutdown path; returns an undo."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = {}

    def handler(_signum: int, _frame: object) -> None:
        loop.call_soon_threadsafe(window.close)

    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.signal(sig, handler)

    def restore() -> None:
        for sig, old in previous.items():
            signal.signal(sig, old)

    return restore


def screenshot_ready(window: MainWindow) -> bool:
    """Queue filled, a handoff selected, its card and transcript rendered."""
    session = window.session
    current = session.current
    return (
        window.queue_panel.proxy.rowCount() > 0
        and current is not None
        and window.card.handoff is not None
        and window.card.handoff.id == current.id
        and session.transcript.rowCount() > 0
        and session.stream is not None
        and session.stream.state == ConnectionState.CONNECTED
        and session.assist_idle(current.id)  # the assistant panel filled (issue 5)
        and window.assistant.settled
    )


def _matching_id(window: MainWindow, session: Session, text: str) -> str | None:
    """The first visible handoff whose company, summary or family contains ``text``."""
    needle = text.casefold()
    for handoff_id in window.queue_panel.visible_ids():
        summary = session.queue.summary(handoff_id)
        if (
            summary is not None
            and needle
            in " ".join((summary.buyer_company, summary.summary, summary.product_family)).casefold()
        ):
            return handoff_id
    return None


async def _screenshot(
    window: MainWindow,
    session: Session,
    path: Path,
    timeout: float,
    outcome: dict[str, int],
    *,
    select: str | None = None,
) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not screenshot_ready(window) and loop.time() < deadline and not session.fatal:
        if session.loaded and window.queue_panel.proxy.rowCount() == 0 and session.queue.rowCount() > 0:
            window.queue_panel.set_only_expertise(False)  # nothing in my expertise: show all
        wanted = _matching_id(window, session, select) if select and session.loaded else None
        if wanted is not None and session.current_id != wanted:
            window.queue_panel.select_id(wanted)
        elif session.loaded and session.current_id is None:
            window.queue_panel.select_first()
        await asyncio.sleep(0.05)
    ready = screenshot_ready(window)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not window.grab().save(str(path)):
        print(f"warmline console: could not write the screenshot to {path}", file=sys.stderr)
        outcome["code"] = 1
    elif session.fatal:
        print(f"warmline console: {session.fatal}", file=sys.stderr)
        outcome["code"] = 2
    elif not ready:
        print(
            f"warmline console: the queue or the handoff was not ready after {timeout:.0f}s; "
            f"saved what was on screen to {path}",
            file=sys.stderr,
        )
        outcome["code"] = 1
    window.close()
