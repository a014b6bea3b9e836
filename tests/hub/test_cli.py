"""`warmline agents|bots|db` on a real SQLite file (and the token really works on a hub)."""

from __future__ import annotations

import signal
import time

import httpx
from click.testing import CliRunner

from warmline.cli import main

from .conftest import bearer, hub_process, start_hub


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


def test_hub_command_serves_and_stops_fast_on_sigint_with_a_stream_open(sqlite_url: str) -> None:
    runner = CliRunner()
    r = runner.invoke(main, ["agents", "add", "ana", "--skills", "all", "--database-url", sqlite_url])
    token = r.stdout.strip().splitlines()[-1]
    with (
        hub_process(sqlite_url) as (proc, url, _lines),
        httpx.Client(base_url=url, headers=bearer(token), timeout=10) as c,
    ):
        assert c.get("/v1/me").json()["agent"]["name"] == "ana"
        with c.stream("GET", "/v1/events") as stream:
            lines = stream.iter_lines()
            assert next(lines).startswith("retry:")
            t0 = time.monotonic()
            proc.send_signal(signal.SIGINT)
            for _ in lines:  # the hub ends the stream itself
                pass
        assert proc.wait(10) == 0
        assert time.monotonic() - t0 < 4
