"""`warmline agents signin-code NAME [--hours H]`: a one-time code for the desktop sign-in,
and `warmline agents add ... --signin-code` (the same code right after adding).

Extends the ``agents`` group of ``warmline.hub.commands`` (cli.py loads the group from
here): ``signin-code`` is added, and ``add`` gains ``--signin-code`` around the original.
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
    _print_code(code, agent, expires_at)


def _print_code(code: str, agent: Any, expires_at: Any) -> None:
    click.echo(
        f"sign-in code for {agent.name}, valid once until {expires_at:%Y-%m-%d %H:%M} UTC "
        "(Warmline's sign-in dialog: hub address, then this code):",
        err=True,
    )
    click.echo(code)


_plain_add = agents.commands["add"]


@click.pass_context
def _add_with_code(ctx: click.Context, signin_code: bool, **kwargs: Any) -> None:
    ctx.invoke(_plain_add, **kwargs)  # prints the token (last line, as before)
    if signin_code:
        ctx.invoke(
            signin_code_command, name=kwargs["name"], hours=24.0, database_url=kwargs.get("database_url")
        )


signin_code_command = signin_code
agents.add_command(
    click.Command(
        "add",
        callback=_add_with_code,
        params=[
            *_plain_add.params,
            click.Option(
                ["--signin-code"],
                is_flag=True,
                help="also issue a one-time desktop sign-in code (valid 24 h; printed last)",
            ),
        ],
        help=_plain_add.help,
        short_help=_plain_add.short_help,
    )
)

__all__ = ["agents", "signin_code"]
