"""`warmline console --hub URL --token T [--screenshot PATH]`."""

from __future__ import annotations

import logging
from pathlib import Path

import click


@click.command("console")
@click.option("--hub", "hub_url", required=True, envvar="WARMLINE_HUB_URL", help="The hub's base URL.")
@click.option("--token", required=True, envvar="WARMLINE_TOKEN", help="A specialist's token.")
@click.option(
    "--screenshot",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="Render offscreen once a handoff is shown, save a PNG of the window here, and exit.",
)
def console(hub_url: str, token: str, screenshot: Path | None) -> None:
    """Open the specialist console against a running hub."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from warmline.console.app import run_console  # Qt loads only when the command runs

    raise SystemExit(run_console(hub_url, token, screenshot=screenshot))
