"""`warmline demo --screenshot`: the one-command demo, end to end, in a real process."""

from __future__ import annotations

import os
import subprocess
import sys

from PySide6.QtGui import QImage


def test_demo_screenshot_exits_0_and_writes_a_png_of_a_filled_console(tmp_path):
    png = tmp_path / "demo.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "warmline.cli",
            "demo",
            "--database-url",
            f"sqlite:///{tmp_path / 'demo.db'}",
            "--screenshot",
            str(png),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    assert png.stat().st_size > 10_000
    image = QImage(str(png))
    assert not image.isNull()
    assert image.width() >= 800 and image.height() >= 500
    # the demo printed how to reach its hub, with a token per specialist
    assert "specialist anna" in result.stderr and "try: warmline console --hub" in result.stderr
