"""`warmline replies add SHORTCUT BODY | list | remove SHORTCUT`: workspace-wide saved replies
(warmline.hub.replies), straight on the database like `warmline agents add`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click

from warmline.hub.commands import _settings, _with_db, database_option
from warmline.hub.replies import NewReply, SavedReply, add_reply, list_replies, remove_reply

# --- `warmline replies add|list|remove` ----------------------------------------------------------


@click.group()
def replies() -> None:
    """Workspace-wide saved replies (typed as #shortcut in the console's composer)."""


def _run(database_url: str | None, fn: Any) -> Any:
    return _with_db(_settings(database_url=database_url).database_url, fn)


@replies.command("add")
@click.argument("shortcut")
@click.argument("body")
@database_option
def replies_add(shortcut: str, body: str, database_url: str | None) -> None:
    """Save BODY as #SHORTCUT (placeholders: {buyer_first_name} {sku} {agent_name} {company})."""
    from fastapi.exceptions import RequestValidationError
    from pydantic import ValidationError

    from warmline.hub.errors import HubError

    try:
        spec = NewReply(shortcut=shortcut, body=body)
    except ValidationError as exc:
        raise click.BadParameter(
            exc.errors()[0]["msg"], param_hint=str(exc.errors()[0]["loc"][0]).upper()
        ) from None

    async def run(db: Any) -> SavedReply:
        async with db.write() as tx:
            return await add_reply(tx, spec=spec, created_by="cli")

    try:
        saved = _run(database_url, run)
    except HubError as exc:
        raise click.ClickException(exc.message) from None
    except RequestValidationError as exc:
        raise click.BadParameter(exc.errors()[0]["msg"], param_hint="BODY") from None
    click.echo(f"saved #{saved.shortcut}")


@replies.command("list")
@database_option
def replies_list(database_url: str | None) -> None:
    """List saved replies."""

    async def run(db: Any) -> Sequence[SavedReply]:
        async with db.read() as session:
            return await list_replies(session)

    for reply in _run(database_url, run):
        click.echo(f"#{reply.shortcut}\t{' '.join(reply.body.split())}")


@replies.command("remove")
@click.argument("shortcut")
@database_option
def replies_remove(shortcut: str, database_url: str | None) -> None:
    """Remove #SHORTCUT."""
    from warmline.hub.errors import HubError

    async def run(db: Any) -> None:
        async with db.write() as tx:
            await remove_reply(tx, shortcut=shortcut)

    try:
        _run(database_url, run)
    except HubError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"removed #{shortcut}")
