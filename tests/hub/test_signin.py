"""Desktop sign-in codes over HTTP and the CLI, on SQLite and PostgreSQL: an admin issues a
code, the console trades it once for a working token; used, expired, unknown and malformed
codes are refused (401 / 422 naming the field)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import timedelta

import httpx

from warmline.hub import signin
from warmline.hub.store.db import utcnow

from .conftest import bearer

JSON = {"Content-Type": "application/json"}


async def test_code_is_issued_by_an_admin_and_works_once(workspace):
    async with workspace.client(workspace.ben) as admin:
        r = await admin.post("/v1/signin-codes", json={"agent": "ana", "ttl_minutes": 30})
    assert r.status_code == 201, r.text
    issued = r.json()
    code = issued["code"]
    assert issued["agent"]["name"] == "ana" and len(code) == 14 and code.count("-") == 2
    async with workspace.client() as anon:
        first = await anon.post("/v1/signin", json={"code": code.lower().replace("-", " ")})
        assert first.status_code == 200, first.text
        token = first.json()["token"]
        assert first.json()["agent"]["name"] == "ana"
        me = await anon.get("/v1/me", headers=bearer(token))
        assert me.status_code == 200 and me.json()["agent"]["name"] == "ana"
        again = await anon.post("/v1/signin", json={"code": code})
        assert again.status_code == 401
        assert again.json()["detail"]["code"] == "invalid_signin_code"


async def test_two_exchanges_of_one_code_have_one_winner(workspace):
    async with workspace.client(workspace.ben) as admin:
        code = (await admin.post("/v1/signin-codes", json={"agent": "cy"})).json()["code"]
    async with workspace.client() as a, workspace.client() as b:
        results = await asyncio.gather(*(c.post("/v1/signin", json={"code": code}) for c in (a, b, a, b)))
    assert sorted(r.status_code for r in results) == [200, 401, 401, 401]


async def test_only_an_admin_issues_codes_and_only_for_known_agents(workspace):
    async with workspace.client(workspace.ana) as ana:
        r = await ana.post("/v1/signin-codes", json={"agent": "ana"})
    assert r.status_code == 403
    async with workspace.client(workspace.ben) as admin:
        r = await admin.post("/v1/signin-codes", json={"agent": "nobody"})
        assert r.status_code == 404
        r = await admin.post("/v1/signin-codes", json={"agent": "ana", "ttl_minutes": 0})
        assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == "ttl_minutes"
        for hostile in ("an\x00a", "\ud800", "x" * 101, 7):
            r = await admin.post("/v1/signin-codes", content=json.dumps({"agent": hostile}), headers=JSON)
            assert r.status_code == 422, (hostile, r.text)
            assert r.json()["detail"][0]["loc"][-1] == "agent"
        for hostile in ("AB\x00C-DEFG-HJKM", "\ud800" * 12, "x" * 41, 12, None):
            r = await admin.post("/v1/signin", content=json.dumps({"code": hostile}), headers=JSON)
            assert r.status_code == 422, (hostile, r.text)
    async with workspace.client() as anon:
        assert (await anon.post("/v1/signin-codes", json={"agent": "ana"})).status_code == 401


async def test_malformed_unknown_and_expired_codes(workspace):
    async with workspace.client() as anon:
        r = await anon.post("/v1/signin", json={"code": "O0O0-1111-IIII"})
        assert r.status_code == 422
        problem = r.json()["detail"][0]
        assert problem["loc"][-1] == "code" and "never contains" in problem["msg"]
        r = await anon.post("/v1/signin", json={"code": "ABC"})
        assert r.status_code == 422 and "12 letters" in r.json()["detail"][0]["msg"]
        r = await anon.post("/v1/signin", json={"code": signin.new_code()})
        assert r.status_code == 401

    async def expired(tx):
        code, _agent, _at = await signin.issue_code(tx, agent_name="ana", ttl=timedelta(minutes=1))
        row = (
            await tx.session.execute(
                signin.SignInCodeRow.__table__.select().where(
                    signin.SignInCodeRow.code_hash == signin._hash(code)
                )
            )
        ).one()
        await tx.session.execute(
            signin.SignInCodeRow.__table__.update()
            .where(signin.SignInCodeRow.id == row.id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        return code

    code = workspace.hub.write(expired)
    async with workspace.client() as anon:
        r = await anon.post("/v1/signin", json={"code": code})
    assert r.status_code == 401


def test_cli_prints_codes_that_sign_in(tmp_path):
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    run = [sys.executable, "-m", "warmline.cli"]

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*run, *args, "--database-url", url], capture_output=True, text=True, timeout=120
        )

    added = cli("agents", "add", "dana", "--skills", "drives", "--signin-code")
    assert added.returncode == 0, added.stderr
    token, first_code = added.stdout.strip().splitlines()[-2:]
    assert len(token) > 30 and signin.normalize_code(first_code)
    issued = cli("agents", "signin-code", "dana", "--hours", "2")
    assert issued.returncode == 0, issued.stderr
    second_code = issued.stdout.strip().splitlines()[-1]
    assert "valid once" in issued.stderr and second_code != first_code
    from tests.hub.conftest import start_hub

    hub = start_hub(url)
    try:
        for code in (first_code, second_code):
            r = httpx.post(f"{hub.base_url}/v1/signin", json={"code": code}, timeout=30)
            assert r.status_code == 200 and r.json()["agent"]["name"] == "dana"
    finally:
        hub.stop()
    missing = cli("agents", "signin-code", "nobody")
    assert missing.returncode == 1 and "nobody" in missing.stderr
