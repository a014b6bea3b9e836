"""The real `warmline console` process: screenshot mode, exit status and a clean stderr.

PySide6 6.12.0 + qasync + an httpx SSE stream aborted at interpreter exit ("Fatal Python
error: bool_dealloc"); this runs the console against a real hub with the stream open,
closes the window through the normal path and checks the process ends with 0 and says
nothing on stderr.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

pytestmark = pytest.mark.gui

WARMLINE = str(Path(sys.executable).with_name("warmline"))


def run_console(*args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run(
        [WARMLINE, "console", *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def test_screenshot_writes_png_and_exits_zero_with_clean_stderr(data, tmp_path, qapp):
    data.create_handoff("Screenshot AB", skills=["drives"], priority="urgent")
    data.create_handoff("Second AB", skills=["drives", "quotes"], reason="purchase_intent")
    shot = tmp_path / "shots" / "console.png"
    result = run_console("--hub", data.base_url, "--token", data.token("anna"), "--screenshot", str(shot))
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == ""
    assert shot.stat().st_size > 10_000
    image = QImage(str(shot))
    assert not image.isNull()
    assert (image.width(), image.height()) == (1440, 880)


def test_bad_token_is_a_clear_error_not_a_hang(data, tmp_path):
    shot = tmp_path / "bad.png"
    result = run_console(
        "--hub", data.base_url, "--token", "not-a-token", "--screenshot", str(shot), timeout=60
    )
    assert result.returncode == 2
    assert "refused this token (401" in result.stderr
    assert "Traceback" not in result.stderr


def test_bot_token_is_refused_with_its_kind(data, tmp_path):
    result = run_console(
        "--hub", data.base_url, "--token", data.bot_token, "--screenshot", str(tmp_path / "x.png")
    )
    assert result.returncode == 2
    assert "belongs to a bot" in result.stderr


def test_missing_option_names_it():
    result = run_console("--hub", "http://127.0.0.1:9")
    assert result.returncode == 2
    assert "--token" in result.stderr
