"""The test suite itself (issue 19, "close the blind spots"): a run without PostgreSQL
must say so loudly instead of passing quietly with the PostgreSQL half skipped, and CI's
WARMLINE_REQUIRE_POSTGRES=1 turns those skips into failures.

Runs pytest in a subprocess on two small PostgreSQL-parametrized tests with the server
pointed at a closed port (nothing runs against a database: the check fails at once).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = "tests/hub/test_audit_events.py"


def _pytest(**env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "WARMLINE_TEST_POSTGRES_URL": "postgresql://postgres@127.0.0.1:1/postgres"}
    environment.pop("WARMLINE_REQUIRE_POSTGRES", None)
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", PROBE, "-k", "postgres"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_skipped_postgres_tests_are_listed_loudly() -> None:
    run = _pytest()
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    out = run.stdout
    assert "PostgreSQL NOT TESTED" in out, out[-2000:]
    assert "2 test(s) needing PostgreSQL were SKIPPED" in out, out[-2000:]
    assert "SKIPPED tests/hub/test_audit_events.py::test_buyer_resuming_below_the_floor" in out, out[-2000:]
    assert "WARMLINE_REQUIRE_POSTGRES=1" in out


def test_ci_fails_them_instead() -> None:
    run = _pytest(WARMLINE_REQUIRE_POSTGRES="1")
    assert run.returncode == 1, run.stdout[-2000:]
    # (the fixture fails: pytest counts them as errors)
    assert "2 errors" in run.stdout and "PostgreSQL not reachable" in run.stdout, run.stdout[-2000:]
    assert "PostgreSQL NOT TESTED" not in run.stdout
