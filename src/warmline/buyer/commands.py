"""`warmline widget add --origin https://shop.example | list | remove KEY`: the web widget's keys."""

from __future__ import annotations

from typing import Any

import click

from warmline.hub.commands import _settings, _with_db, database_option


@click.group()
def widget() -> None:
    """Keys for the embeddable web chat (one per site, with the page origins allowed to use it)."""


@widget.command("add")
@click.option(
    "--origin",
    "origins",
    multiple=True,
    required=True,
    help="a page origin allowed to use the key, e.g. https://shop.example (repeat for more)",
)
@click.option("--label", default="", help="a name for the key (shown by `warmline widget list`)")
@database_option
def widget_add(origins: tuple[str, ...], label: str, database_url: str | None) -> None:
    """Add a widget key; prints the embed line, and the key on the last line of stdout."""
    from warmline.buyer import keys

    try:
        cleaned = [keys.normalise_origin(o) for o in origins]
    except keys.OriginError as exc:
        raise click.BadParameter(str(exc), param_hint="--origin") from None
    url = _settings(database_url=database_url).database_url

    async def run(db: Any) -> str:
        async with db.write() as tx:
            row = await keys.add_key(tx.session, origins=cleaned, label=label)
            return row.key

    key = _with_db(url, run)
    click.echo(f"added widget key for {', '.join(cleaned)}; put this on the pages:", err=True)
    click.echo(f'  <script src="https://YOUR-HUB/widget.js" data-workspace="{key}" async></script>', err=True)
    click.echo(key)


@widget.command("list")
@database_option
def widget_list(database_url: str | None) -> None:
    """List widget keys: key, label, allowed origins."""
    from warmline.buyer import keys

    url = _settings(database_url=database_url).database_url

    async def run(db: Any) -> list[tuple[str, str, list[str]]]:
        async with db.read() as session:
            return [(r.key, r.label, list(r.origins)) for r in await keys.list_keys(session)]

    for key, label, origins in _with_db(url, run):
        click.echo(f"{key}\t{label}\t{','.join(origins)}")


@widget.command("remove")
@click.argument("key")
@database_option
def widget_remove(key: str, database_url: str | None) -> None:
    """Remove a key: pages using it can no longer open conversations (open ones continue)."""
    from warmline.buyer import keys

    url = _settings(database_url=database_url).database_url

    async def run(db: Any) -> bool:
        async with db.write() as tx:
            return await keys.remove_key(tx.session, key)

    if not _with_db(url, run):
        raise click.ClickException(f"no widget key {key!r}")
    click.echo(f"removed widget key {key}", err=True)
