"""`warmline simulate`: play demo buyer traffic into any hub, as a bot."""

from __future__ import annotations

import asyncio
import contextlib

import click


@click.command()
@click.option("--hub", "hub_url", required=True, envvar="WARMLINE_HUB_URL", help="hub base URL")
@click.option("--token", required=True, envvar="WARMLINE_BOT_TOKEN", help="a bot token (`warmline bots add`)")
@click.option(
    "--database-url",
    envvar="WARMLINE_DATABASE_URL",
    default=None,
    help="catalog database the engine grounds its answers in (default: no catalog)",
)
@click.option("--seed/--no-seed", default=True, show_default=True, help="hand off every scenario once first")
@click.option(
    "--steps",
    type=int,
    default=None,
    help="stop after this many live actions (default: run forever)",
)
@click.option(
    "--interval",
    type=float,
    nargs=2,
    default=(3.0, 7.0),
    show_default=True,
    help="seconds between live actions (min max)",
)
def simulate(
    hub_url: str,
    token: str,
    database_url: str | None,
    seed: bool,
    steps: int | None,
    interval: tuple[float, float],
) -> None:
    """Seed engine-made handoffs and keep buyer traffic flowing into a hub."""
    from warmline.escalation.engine import EscalationEngine
    from warmline.sim.runner import Simulator

    async def main() -> None:
        catalog = engine = None
        if database_url:
            from warmline.catalog.service import CatalogService, make_engine

            engine = make_engine(database_url)
            catalog = CatalogService(engine)
        simulator = Simulator(
            hub_url=hub_url.rstrip("/"),
            bot_token=token,
            engine=EscalationEngine(catalog=catalog),
            interval=interval,
        )
        try:
            if seed:
                ids = await simulator.seed()
                click.echo(f"seeded {len(ids)} handoffs", err=True)
            if steps != 0:
                await simulator.run(iterations=steps)
        finally:
            await simulator.aclose()
            if engine is not None:
                await engine.dispose()
        click.echo(
            f"created {simulator.handoffs_created} handoffs, posted {simulator.messages_posted} messages",
            err=True,
        )

    with contextlib.suppress(KeyboardInterrupt):  # Ctrl+C is how a forever-run stops
        asyncio.run(main())
