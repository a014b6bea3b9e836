"""`warmline console [--hub URL] [--token T | --token-file F] [--profile P] [--screenshot PATH]`.

Without a token the desktop app signs in from the OS keyring (the last profile, or the one
for ``--hub`` / ``--profile``) or shows the sign-in dialog; ``--token``, ``WARMLINE_TOKEN``
and ``--token-file`` are for scripts and never stored.
"""

from __future__ import annotations

import logging
from pathlib import Path

import click


@click.command("console")
@click.option("--hub", "hub_url", default=None, envvar="WARMLINE_HUB_URL", help="The hub's base URL.")
@click.option(
    "--token", default=None, envvar="WARMLINE_TOKEN", help="A specialist's token (or WARMLINE_TOKEN)."
)
@click.option(
    "--token-file",
    type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path),
    default=None,
    help="Read the token from this file's first line (keeps it out of `ps`).",
)
@click.option("--profile", default=None, help="A saved profile (its specialist name or id).")
@click.option(
    "--theme",
    type=click.Choice(["system", "light", "dark"]),
    default=None,
    help="With --screenshot: render in this theme (the app itself uses Settings).",
)
@click.option(
    "--screenshot",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="Render offscreen once a handoff is shown, save a PNG of the window here, and exit.",
)
def console(
    hub_url: str | None,
    token: str | None,
    token_file: Path | None,
    profile: str | None,
    theme: str | None,
    screenshot: Path | None,
) -> None:
    """Open the specialist console (signs in with the saved profile or asks)."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from warmline.console.desktop.credentials import Profiles, normalize_hub_url, token_from_sources

    try:
        token = token_from_sources(token, token_file)
        hub_url = normalize_hub_url(hub_url) if hub_url else None
    except (OSError, ValueError) as exc:
        raise click.BadParameter(str(exc)) from None
    if token is not None and hub_url is None:
        raise click.UsageError("--hub is needed with --token / --token-file (which hub is it for?)")

    from warmline.console.desktop.launcher import headless, run_desktop, stored_credential
    from warmline.console.desktop.settings import DesktopSettings
    from warmline.console.desktop.signin import Credential

    credential = Credential(hub_url, token) if token is not None and hub_url is not None else None
    if credential is None:
        credential = stored_credential(
            Profiles(DesktopSettings().qsettings), hub_url=hub_url, profile=profile
        )
    if screenshot is not None or headless():
        if credential is None:
            raise click.UsageError(
                "no token: pass --token, set WARMLINE_TOKEN or use --token-file "
                "(the sign-in dialog needs a screen)"
            )
        from warmline.console.app import run_console

        code = run_console(credential.hub_url, credential.token, screenshot=screenshot, theme=theme)
        raise SystemExit(code)
    raise SystemExit(run_desktop(credential, hub_url=hub_url or ""))
