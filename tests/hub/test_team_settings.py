"""Team rules' settings (issue 12): policy.toml's [assignment] defaults, a workspace override
(WARMLINE_POLICY_FILE), hub flags --reply-timeout/--idle-timeout, `agents add --max-active`."""

from __future__ import annotations

import subprocess
import sys

import httpx
from tests.hub.conftest import bearer, hub_process, open_workspace

from warmline.hub.assignment import AssignmentConfig
from warmline.hub.settings import HubSettings


def test_defaults_come_from_policy_toml(monkeypatch) -> None:
    monkeypatch.delenv("WARMLINE_POLICY_FILE", raising=False)
    config = AssignmentConfig.load(HubSettings(database_url="sqlite:///x.db"))
    assert (config.reply_timeout_s, config.idle_timeout_s, config.max_active_per_agent) == (120, 600, 5)


async def test_a_workspace_override_and_settings_win(database_url: str, tmp_path, monkeypatch) -> None:
    override = tmp_path / "policy.toml"
    override.write_text("[assignment]\nreply_timeout_s = 45\nmax_active_per_agent = 3\n")
    monkeypatch.setenv("WARMLINE_POLICY_FILE", str(override))
    with open_workspace(database_url, idle_timeout_s=0) as ws:
        async with ws.client(ws.ana) as ana:
            r = await ana.get("/v1/assignment")
    assert r.status_code == 200
    assert r.json() == {
        "reply_timeout_s": 45.0,
        "idle_timeout_s": 0.0,
        "max_active_per_agent": 3,
        "held": 0,
        "limit": 3,
    }


async def test_hub_flags_and_agents_add_max_active(sqlite_url: str) -> None:
    cli = [sys.executable, "-m", "warmline.cli"]
    added = subprocess.run(
        [*cli, "agents", "add", "dee", "--skills", "all", "--max-active", "2", "--database-url", sqlite_url],
        capture_output=True,
        text=True,
        check=True,
    )
    token = added.stdout.strip().splitlines()[-1]
    bad = subprocess.run(
        [*cli, "agents", "add", "eve", "--skills", "all", "--max-active", "-1", "--database-url", sqlite_url],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "--max-active" in bad.stderr
    with hub_process(sqlite_url, "--reply-timeout", "30", "--idle-timeout", "90") as (_proc, url, _lines):
        async with httpx.AsyncClient(base_url=url, headers=bearer(token)) as dee:
            r = await dee.get("/v1/assignment")
    assert r.json()["reply_timeout_s"] == 30 and r.json()["idle_timeout_s"] == 90
    assert r.json()["limit"] == 2 and r.json()["held"] == 0
