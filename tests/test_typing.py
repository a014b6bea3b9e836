"""Static checks as tests, so the README's one test command runs them too: mypy and ruff.

Their settings are in pyproject.toml ([tool.mypy]: strict for ``warmline.domain``; [tool.ruff]).
The same checks run from .pre-commit-config.yaml before a commit.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=REPO, capture_output=True, text=True, timeout=280, check=False
    )


def test_mypy_is_clean() -> None:
    res = _run("mypy")  # files, plugins, strict modules and the baseline come from pyproject.toml
    assert res.returncode == 0, f"mypy reported errors:\n{res.stdout}{res.stderr}"
    assert "Success: no issues found" in res.stdout


def test_the_domain_is_checked_strictly(tmp_path: Path) -> None:
    """The strict block really applies to the domain: an untyped function there is an error."""
    module = REPO / "src" / "warmline" / "domain" / "skills.py"
    shadow = tmp_path / "skills.py"
    shadow.write_text(module.read_text() + "\n\ndef untyped(x):\n    return x\n")
    res = _run("mypy", "--shadow-file", str(module), str(shadow), str(module))
    assert res.returncode == 1, res.stdout + res.stderr
    assert "Function is missing a type annotation  [no-untyped-def]" in res.stdout


def test_ruff_is_clean() -> None:
    res = _run("ruff", "check", "src", "tests", "benchmarks")
    assert res.returncode == 0, f"ruff check reported problems:\n{res.stdout}{res.stderr}"
