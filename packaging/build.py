"""Build the Warmline desktop app: `python packaging/build.py [--with-hub] [--no-tarball]`.

Needs the `package` extra (`pip install -e '.[package]'`). Everything stays in the clone:
PyInstaller's work files in build/pyinstaller, the one-folder app in dist/Warmline, and on
Linux the tarball dist/warmline-<version>-linux-<arch>.tar.gz holding the app, the
.desktop file, the icons in the hicolor layout and install.sh (per-user install into
~/.local). Prints the bundle's size and the build time; exits non-zero on failure.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "packaging" / "warmline.spec"
ICONS = ROOT / "resources" / "icons"

INSTALL_SH = """#!/bin/sh
# Per-user install of Warmline: the app in ~/.local/opt/warmline, a launcher on the PATH,
# the menu entry and the icons. Run ./install.sh --uninstall to remove it again.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
opt="$HOME/.local/opt/warmline"; bin="$HOME/.local/bin"; share="$HOME/.local/share"
if [ "${1:-}" = "--uninstall" ]; then
  rm -rf "$opt" "$bin/warmline-app" "$share/applications/warmline.desktop"
  find "$share/icons/hicolor" -name warmline.png -delete 2>/dev/null || true
  echo "Warmline removed."; exit 0
fi
mkdir -p "$opt" "$bin" "$share/applications"
rm -rf "$opt/Warmline"; cp -a "$here/Warmline" "$opt/"
ln -sf "$opt/Warmline/Warmline" "$bin/warmline-app"
mkdir -p "$share/icons"; cp -a "$here/icons/hicolor" "$share/icons/"
sed "s|^Exec=.*|Exec=$opt/Warmline/Warmline %U|" "$here/warmline.desktop" \
  > "$share/applications/warmline.desktop"
command -v update-desktop-database >/dev/null && update-desktop-database "$share/applications" || true
echo "Warmline installed: find it in your applications menu, or run warmline-app."
"""


def version() -> str:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def folder_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def build(with_hub: bool, dist: Path, work: Path) -> Path:
    cmd = [
        sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
        "--distpath", str(dist), "--workpath", str(work), str(SPEC),
    ]
    if with_hub:
        cmd += ["--", "--with-hub"]
    env = dict(os.environ, PYINSTALLER_CONFIG_DIR=str(work / "cache"))  # no cache outside the clone
    subprocess.run(cmd, cwd=ROOT, check=True, env=env)
    app = dist / ("Warmline.app" if sys.platform == "darwin" else "Warmline")
    if not app.exists():
        raise SystemExit(f"PyInstaller finished but {app} is missing")
    return app


def tarball(app: Path, dist: Path) -> Path:
    name = f"warmline-{version()}-linux-{platform.machine()}"
    stage = dist / name
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    shutil.copytree(app, stage / "Warmline", symlinks=True)
    shutil.copy2(ROOT / "packaging" / "linux" / "warmline.desktop", stage / "warmline.desktop")
    for png in sorted(ICONS.glob("warmline-*.png")):
        size = png.stem.split("-")[1]
        target = stage / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "warmline.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(png, target)
    (stage / "install.sh").write_text(INSTALL_SH, encoding="utf-8")
    (stage / "install.sh").chmod(0o755)
    out = dist / f"{name}.tar.gz"
    with tarfile.open(out, "w:gz", compresslevel=6) as tar:
        tar.add(stage, arcname=name)
    shutil.rmtree(stage)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--with-hub", action="store_true", help="bundle the hub too (Warmline hub ...)")
    parser.add_argument("--no-tarball", action="store_true", help="only the one-folder app")
    parser.add_argument("--dist", type=Path, default=ROOT / "dist")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "pyinstaller")
    args = parser.parse_args(argv)
    try:
        import PyInstaller  # noqa: F401
    except ImportError:
        print("PyInstaller is missing: pip install -e '.[package]'", file=sys.stderr)
        return 2
    started = time.perf_counter()
    app = build(args.with_hub, args.dist, args.work)
    seconds = time.perf_counter() - started
    size = folder_size(app)
    print(f"built {app} in {seconds:.0f} s: {size / 1e6:.1f} MB in {sum(1 for _ in app.rglob('*'))} files")
    if sys.platform.startswith("linux") and not args.no_tarball:
        out = tarball(app, args.dist)
        print(f"tarball {out}: {out.stat().st_size / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
