"""The packaged desktop app: build the one-folder Linux bundle with PyInstaller (packaging/
build.py) and run the built executable offscreen against a real hub: it starts, connects,
paints the queue, saves a screenshot and exits 0, so the bundle holds every Qt plugin and
resource it needs. Also at 2x scale in the dark theme (high DPI), and a console-only
bundle refuses hub commands clearly.

The build goes to build/desktop-test/ in the clone and is reused while the sources it is
made from are unchanged (a fingerprint file), so .ci/run builds it once per change. Skipped
without PyInstaller (``pip install -e '.[package]'``) unless WARMLINE_REQUIRE_BUNDLE=1.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

pytestmark = pytest.mark.gui

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "build" / "desktop-test"
APP = OUT / "dist" / "Warmline" / "Warmline"
INPUTS = (
    "packaging/*.py",
    "packaging/*.spec",
    "src/warmline/console/**/*.py",
    "src/warmline/domain/**/*.py",
    "src/warmline/resources.py",
    "resources/styles/*",
    "resources/icons/*",
    "resources/skills.toml",
    "resources/schema/*",
    "pyproject.toml",
)


def fingerprint() -> str:
    digest = hashlib.sha256(sys.version.encode())
    for pattern in INPUTS:
        for path in sorted(ROOT.glob(pattern)):
            if path.is_file():
                digest.update(str(path.relative_to(ROOT)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def bundle() -> Path:
    try:
        import PyInstaller  # noqa: F401
    except ImportError:
        if os.environ.get("WARMLINE_REQUIRE_BUNDLE") == "1":
            pytest.fail("WARMLINE_REQUIRE_BUNDLE=1 but PyInstaller is missing: pip install -e '.[package]'")
        pytest.skip("PyInstaller not installed (pip install -e '.[package]')")
    stamp = OUT / "fingerprint"
    wanted = fingerprint()
    if APP.is_file() and stamp.is_file() and stamp.read_text() == wanted:
        return APP
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "packaging" / "build.py"),
            "--no-tarball",
            "--dist",
            str(OUT / "dist"),
            "--work",
            str(OUT / "work"),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    assert APP.is_file()
    stamp.write_text(wanted)
    return APP


def run_app(app: Path, tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    clean.update(
        QT_QPA_PLATFORM="offscreen",
        WARMLINE_CONFIG_DIR=str(tmp_path / "config"),
        WARMLINE_OUTBOX_DIR=str(tmp_path / "outbox"),
        **env,
    )
    return subprocess.run(
        [str(app), *args], env=clean, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False
    )


def test_bundle_starts_connects_paints_the_queue_and_exits_0(bundle, data, tmp_path):
    data.create_handoff("Bundle Test GmbH", skills=["drives"], priority="urgent")
    data.create_handoff("Packaged AG", skills=["quotes"], reason="purchase_intent")
    token_file = tmp_path / "token"
    token_file.write_text(data.token("anna") + "\n")
    shot = tmp_path / "bundle.png"
    result = run_app(
        bundle, tmp_path, "--hub", data.base_url, "--token-file", str(token_file), "--screenshot", str(shot)
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr and "could not load the Qt platform plugin" not in result.stderr
    image = QImage(str(shot))
    assert not image.isNull() and (image.width(), image.height()) == (1440, 880)

    # high DPI: the same window at 2x device pixels, in the dark theme
    hidpi = tmp_path / "bundle-2x-dark.png"
    result = run_app(
        bundle,
        tmp_path,
        "--hub",
        data.base_url,
        "--token-file",
        str(token_file),
        "--screenshot",
        str(hidpi),
        "--theme",
        "dark",
        QT_SCALE_FACTOR="2",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    image = QImage(str(hidpi))
    assert (image.width(), image.height()) == (2880, 1760)
    assert image.pixelColor(20, 1740).lightness() < 80  # the dark status bar


def test_console_only_bundle_says_hub_commands_need_the_full_install(bundle, tmp_path):
    result = run_app(bundle, tmp_path, "hub", "--help")
    assert result.returncode == 2
    assert "console only" in result.stderr
    result = run_app(bundle, tmp_path, "--help")
    assert result.returncode == 0 and "--token-file" in result.stdout
