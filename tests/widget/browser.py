"""Debian's headless Chromium as the web widget's tests and benchmarks launch it through
Playwright (benchmarks/widget_*.py import CHROMIUM_ARGS from here)."""

from __future__ import annotations

import os
from typing import Any

CHROMIUM = os.environ.get("WARMLINE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def launch_options() -> dict[str, Any]:
    return {"executable_path": CHROMIUM, "args": CHROMIUM_ARGS, "headless": True}
