"""Screenshots of the console at 1280x720, 1440x880 and 1920x1080 (docs/screenshots/).

Runs the demo offscreen (embedded hub on a temporary SQLite file, demo catalog and seeded
handoffs, no live traffic), signs in as a demo specialist, opens a handoff with a replaced
part, claims it (so the composer, the "Mine" row and the assistant's cards show), and saves
one PNG per size (the 1440x880 one is also docs/screenshot.png, the README's picture):

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/console_screenshots.py [--select TEXT]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path

SIZES = ((1280, 720), (1440, 880), (1920, 1080))
OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"


async def shoot(base_url: str, token: str, size: tuple[int, int], select: str, out: Path) -> None:
    import shiboken6

    from warmline.console.app import _matching_id, screenshot_ready
    from warmline.console.client import HubClient
    from warmline.console.session import Session
    from warmline.console.widgets.main_window import MainWindow

    session = Session(HubClient(base_url, token), outbox_dir=out.parent / ".outbox")
    window = MainWindow(session, hub_url=base_url)
    window.resize(*size)
    window.show()
    session.start()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60
    claimed = False
    while loop.time() < deadline:
        if session.loaded and window.queue_panel.proxy.rowCount() == 0:
            window.queue_panel.set_only_expertise(False)
        wanted = _matching_id(window, session, select) if session.loaded else None
        if wanted is not None and session.current_id != wanted:
            window.queue_panel.select_id(wanted)
        elif session.loaded and session.current_id is None:
            window.queue_panel.select_first()
        if screenshot_ready(window) and not claimed and session.current.status.value == "queued":
            session.claim()
            claimed = True
        if screenshot_ready(window) and session.is_mine():
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.6)  # the banner, a repaint
    window.queue_panel.table.fit_columns()
    await asyncio.sleep(0.1)
    name = out / f"console-{size[0]}x{size[1]}.png"
    window.grab().save(str(name))
    if size == (1440, 880):  # the README's picture
        window.grab().save(str(out.parent / "screenshot.png"))
    print("saved", name, "ready" if screenshot_ready(window) else "NOT READY", file=sys.stderr)
    window.close()
    await session.aclose()
    shiboken6.delete(window)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--select", default="Nordic Conveyors")
    parser.add_argument("--agent", default="anna")
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from warmline.demo import SimulatorThread, prepare_workspace
    from warmline.hub.embedded import EmbeddedHub

    tmp = Path(tempfile.mkdtemp(prefix="warmline-shots-"))
    database_url = f"sqlite:///{tmp / 'demo.db'}"
    hub = EmbeddedHub(database_url=database_url, port=0)
    base_url = hub.start()
    simulator = None
    try:
        workspace = asyncio.run(prepare_workspace(hub_url=base_url, database_url=database_url))
        simulator = SimulatorThread(workspace, live=False)
        simulator.start()
        if not simulator.seeded.wait(180):
            print("the demo was not seeded in time", file=sys.stderr)
            return 1
        import qasync
        from PySide6.QtWidgets import QApplication

        from warmline.console.app import close_qasync_loop, install_asyncgen_hooks

        app = QApplication.instance() or QApplication([])
        app.setQuitOnLastWindowClosed(False)
        loop = qasync.QEventLoop(app, already_running=False)
        asyncio.set_event_loop(loop)
        install_asyncgen_hooks(loop)
        OUT.mkdir(parents=True, exist_ok=True)
        try:
            for size in SIZES:
                # each size signs in afresh; the first one's claim shows in the others as "Mine"
                loop.run_until_complete(shoot(base_url, workspace.tokens[args.agent], size, args.select, OUT))
        finally:
            close_qasync_loop(loop)
    finally:
        if simulator is not None:
            simulator.stop()
        hub.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
