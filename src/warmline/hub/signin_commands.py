"""`warmline agents signin-code NAME [--hours H]`: a one-time code for the desktop sign-in.

Adds the command to the ``agents`` group of ``warmline.hub.commands`` (cli.py loads the
group from here, so ``warmline agents`` lists it with ``add`` and ``list``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import click

from warmline.hub.commands import _settings, _with_db, agents, database_option


@agents.command("signin-code")
@click.argument("name")
@click.option("--hours", default=24.0, show_default=True, type=click.FloatRange(0.02, 168), help="valid for")
@database_option
def signin_code(name: str, hours: float, database_url: str | None) -> None:
    """Issue a one-time sign-in code for NAME's desktop console (last line of stdout)."""
    from warmline.hub import signin
    from warmline.hub.errors import HubError

    url = _settings(database_url=database_url).database_url

    async def run(db: Any) -> tuple[str, Any, Any]:
        async with db.write() as tx:
            return await signin.issue_code(tx, agent_name=name, ttl=timedelta(hours=hours))

    try:
        code, agent, expires_at = _with_db(url, run)
    except HubError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(
        f"sign-in code for {agent.name}, valid once until {expires_at:%Y-%m-%d %H:%M} UTC "
        "(Warmline's sign-in dialog: hub address, then this code):",
        err=True,
    )
    click.echo(code)


__all__ = ["agents", "signin_code"]
