"""`warmline catalog ...` from the command line (real SQLite database, real click runner)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from warmline.cli import main
from warmline.resources import resource_path


def test_cli_lookups(tmp_path: Path, bearing_tables: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cat.db'}"
    runner = CliRunner()

    def run(*args: str) -> object:
        return runner.invoke(main, ["catalog", *args, "--database-url", url])

    res = run("ingest", str(bearing_tables), "--mapping", str(resource_path("mappings", "bearings.toml")))
    assert res.exit_code == 0, res.output
    assert "101 product(s) created" in res.output

    res = run("search", "family:bearing", "bore=8mm", "--json")
    assert res.exit_code == 0
    assert "608" in {h["sku"] for h in json.loads(res.output)}

    res = run("spec", "608")
    assert res.exit_code == 0 and "Deep groove ball bearing 608" in res.output and "8 mm" in res.output

    res = run("subs", "608", "--json")
    assert [c["product"]["sku"] for c in json.loads(res.output)] == ["E2.608-2Z"]
    res = run("subs", "608")
    assert "E2.608-2Z" in res.output and "✓ bore = 8 mm" in res.output

    res = run("acc", "608")
    assert res.exit_code == 0 and "no accessories" in res.output

    res = run("spec", "6O8")
    assert res.exit_code == 1 and "not found" in res.output and "closest matches: 608" in res.output

    res = run("subs", "608", "bore>=8 furlongs")
    assert res.exit_code == 2 and "'furlongs'" in res.output


def test_cli_ingest_refusal_lists_errors(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cat.db'}"
    bad = tmp_path / "bad.csv"
    bad.write_text("sku,name,family\nX-1,,gearbox\nX-2,Thing,unicorn\n", encoding="utf-8")
    res = CliRunner().invoke(main, ["catalog", "ingest", str(bad), "--database-url", url])
    assert res.exit_code == 1
    assert "bad.csv:2: name: missing" in res.output
    assert "bad.csv:3: family: unknown family 'unicorn'" in res.output
    assert "refused: 2 error(s); nothing was written" in res.output
