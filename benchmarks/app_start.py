"""Desktop app start-up: process start to a painted queue, from the PyInstaller bundle and
from the virtual environment (the baseline), plus the bundle's size (issue 15).

    python packaging/build.py --no-tarball          # once: dist/Warmline
    QT_QPA_PLATFORM=offscreen python benchmarks/app_start.py [--runs 5] [--bundle PATH]

An embedded hub (SQLite, in this process) holds 40 handoffs. Each run starts the app with
``WARMLINE_REPORT_PAINTED=exit``: it prints one line when the queue's table is first painted
with rows (after signing in and loading the queue over HTTP) and then quits; the figure is
the time from spawning the process to reading that line. Runs alternate bundle / venv; the
first run of each is reported apart (cold file cache), then median and best of the rest.
Target: under 2 s to a painted window.
"""

from __future__ import annotations

import argparse
import os
import select
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the console tests' REST helper


def timed_start(cmd: list[str], env: dict[str, str], timeout: float = 60.0) -> float:
    """Seconds from spawning ``cmd`` to its "queue painted" line (stderr to a file, never a full pipe)."""
    with tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=err, text=True)
        assert proc.stdout is not None
        elapsed = None
        while time.perf_counter() - started < timeout:
            ready, _, _ = select.select([proc.stdout], [], [], 0.5)
            if ready:
                line = proc.stdout.readline()
                if "queue painted" in line:
                    elapsed = time.perf_counter() - started
                    break
                if not line and proc.poll() is not None:
                    break
        if elapsed is None:
            proc.kill()
            proc.wait(10)
            err.seek(0)
            tail = err.read()[-2000:]
            raise SystemExit(f"{cmd[0]} did not paint the queue within {timeout:.0f} s:\n{tail}")
        proc.wait(60)
        return elapsed


def folder_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink()) / 1e6


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--bundle", type=Path, default=None)
    args = parser.parse_args()
    candidates = (
        [args.bundle]
        if args.bundle
        else [
            ROOT / "dist" / "Warmline" / "Warmline",
            ROOT / "build" / "desktop-test" / "dist" / "Warmline" / "Warmline",
        ]
    )
    built = [c for c in candidates if c and c.is_file()]
    bundle = max(built, key=lambda c: c.stat().st_mtime) if built else None  # the newest build
    if bundle is None:
        print("no bundle: run `python packaging/build.py --no-tarball` first", file=sys.stderr)
        return 2

    from console.hubdata import HubData
    from warmline.hub.embedded import EmbeddedHub

    with tempfile.TemporaryDirectory() as tmp:
        hub = EmbeddedHub(database_url=f"sqlite:///{Path(tmp) / 'bench.db'}", port=0)
        hub.start()
        try:
            bot = hub.create_bot("bench-bot")
            anna, token = hub.create_agent("anna", ["drives", "quotes"], display_name="Anna")
            data = HubData(hub.base_url, bot, agents={"anna": (anna, token)})
            for i in range(40):
                data.create_handoff(f"Start Bench {i:02d} GmbH", skills=["drives"])
            data.close()
            token_file = Path(tmp) / "token"
            token_file.write_text(token)
            env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
            env.update(
                QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"),
                WARMLINE_REPORT_PAINTED="exit",
                WARMLINE_CONFIG_DIR=str(Path(tmp) / "config"),
                WARMLINE_OUTBOX_DIR=str(Path(tmp) / "outbox"),
            )
            common = ["--hub", hub.base_url, "--token-file", str(token_file)]
            venv = [str(Path(sys.executable).with_name("warmline")), "console", *common]
            packaged = [str(bundle), *common]
            times: dict[str, list[float]] = {"bundle": [], "venv": []}
            for _ in range(args.runs):
                times["bundle"].append(timed_start(packaged, env))
                times["venv"].append(timed_start(venv, env))
        finally:
            hub.stop()

    print(f"app start to painted queue (40 handoffs), {args.runs} runs each, {time.strftime('%Y-%m-%d')}")
    for name, values in times.items():
        rest = values[1:] or values
        print(
            f"  {name:6s}  first {values[0]:.2f} s   median {statistics.median(rest):.2f} s   "
            f"best {min(rest):.2f} s   target < 2 s: {'met' if statistics.median(rest) < 2 else 'NOT met'}"
        )
    app_dir = bundle.parent
    print(f"bundle {app_dir}: {folder_mb(app_dir):.1f} MB in {sum(1 for _ in app_dir.rglob('*'))} files")
    tarballs = sorted((ROOT / "dist").glob("warmline-*-linux-*.tar.gz"))
    if tarballs:
        print(f"tarball {tarballs[-1].name}: {tarballs[-1].stat().st_size / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
