"""`warmline agents|bots|db` on a real SQLite file (and the token really works on a hub)."""

from __future__ import annotations

import httpx
from click.testing import CliRunner

from warmline.cli import main

from .conftest import bearer, start_hub


def test_agents_bots_and_db_commands(sqlite_url: str) -> None:
    runner = CliRunner()
    r = runner.invoke(main, ["db", "upgrade", "--database-url", sqlite_url])
    assert r.exit_code == 0, r.output
    r = runner.invoke(
        main,
        [
            "agents",
            "add",
            "ana",
            "--skills",
            "drives,quotes",
            "--display-name",
            "Ana P",
            "--database-url",
            sqlite_url,
        ],
    )
    assert r.exit_code == 0, r.output
    token = r.stdout.strip().splitlines()[-1]
    assert len(token) >= 40 and "added specialist ana" in r.stderr

    r = runner.invoke(main, ["agents", "add", "bob", "--skills", "nope", "--database-url", sqlite_url])
    assert r.exit_code == 2 and "unknown skill 'nope'" in r.output
    r = runner.invoke(main, ["agents", "add", "ana", "--skills", "all", "--database-url", sqlite_url])
    assert r.exit_code == 1 and "already exists" in r.output
    r = runner.invoke(main, ["agents", "add", "b b", "--skills", "all", "--database-url", sqlite_url])
    assert r.exit_code == 2 and "NAME" in r.output

    r = runner.invoke(main, ["bots", "add", "sim", "--database-url", sqlite_url])
    assert r.exit_code == 0
    bot_token = r.stdout.strip().splitlines()[-1]

    r = runner.invoke(main, ["agents", "list"], env={"WARMLINE_DATABASE_URL": sqlite_url})
    assert r.exit_code == 0 and r.stdout.splitlines() == ["ana\tAna P\tdrives,quotes"]

    hub = start_hub(sqlite_url)
    try:
        with httpx.Client(base_url=hub.base_url) as c:
            me = c.get("/v1/me", headers=bearer(token)).json()
            assert me["agent"]["skills"] == ["drives", "quotes"]
            assert c.get("/v1/me", headers=bearer(bot_token)).json()["kind"] == "bot"
    finally:
        hub.stop()
