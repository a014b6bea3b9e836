"""`warmline demo`: embedded hub + demo workspace + simulator + console, in one command.

The hub runs on its own thread (``EmbeddedHub``), the simulator on another, and the
console owns the main thread under qasync, so UI work never waits on the simulator
or the database. ``start_demo_workspace`` is the same workspace for `warmline hub --demo`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

import click

log = logging.getLogger("warmline.demo")


@dataclass(frozen=True)
class DemoSpecialist:
    name: str
    display_name: str
    skills: tuple[str, ...]


# Who works the demo queue. "anna" is who the console signs in as by default.
DEMO_HISTORY = 300  # resolved handoffs over the last 30 days, for the Dashboard (hub.metrics.demo_history)
SPECIALISTS: tuple[DemoSpecialist, ...] = (
    DemoSpecialist("anna", "Anna Berg", ("drives", "bearings", "quotes", "logistics")),
    DemoSpecialist("marco", "Marco Rossi", ("pumps", "quotes", "logistics")),
    DemoSpecialist("lena", "Lena Vogt", ("pneumatics", "atex", "quotes")),
    DemoSpecialist("sam", "Sam Okafor", ("connectors", "sensors", "quotes", "logistics")),
    DemoSpecialist("priya", "Priya Nair", ("quotes", "logistics")),
    DemoSpecialist("jonas", "Jonas Lind", ("applications", "drives", "pumps", "pneumatics", "quotes")),
    DemoSpecialist("sophie", "Sophie Martin", ("all",)),
)


@dataclass
class DemoWorkspace:
    hub_url: str
    database_url: str
    bot_token: str
    tokens: dict[str, str] = field(default_factory=dict)  # specialist name -> bearer token


def default_demo_database_url() -> str:
    from platformdirs import user_data_dir

    return f"sqlite:///{Path(user_data_dir('warmline')) / 'demo.db'}"


def _remove_sqlite(database_url: str) -> None:
    """Start the demo fresh: delete the previous demo database file (and WAL files)."""
    if not database_url.startswith("sqlite"):
        return
    path = Path(database_url.split("///", 1)[1])
    for suffix in ("", "-wal", "-shm", "-journal"):
        candidate = path.with_name(path.name + suffix)
        if candidate.exists():
            candidate.unlink()


async def prepare_workspace(*, hub_url: str, database_url: str) -> DemoWorkspace:
    """Demo catalog, specialists and a bot, written straight to the hub's database."""
    from warmline.buyer.keys import ensure_demo_key
    from warmline.catalog.demo import ensure_demo_catalog
    from warmline.hub import service
    from warmline.hub.errors import Conflict
    from warmline.hub.store.db import Database
    from warmline.storage.migrate import upgrade

    await upgrade(database_url)
    await ensure_demo_catalog(database_url)
    db = Database(database_url)
    await db.start(listen=False)
    try:
        tokens: dict[str, str] = {}
        async with db.write() as tx:
            for person in SPECIALISTS:
                try:
                    _agent, token = await service.create_agent(
                        tx, name=person.name, skills=list(person.skills), display_name=person.display_name
                    )
                except Conflict:
                    token = await service.issue_agent_token(tx, name=person.name)
                tokens[person.name] = token
            bot_token = await service.create_bot(tx, name="product-ai")
            await ensure_demo_key(tx.session, hub_url)  # the web chat on the hub's /demo/shop page
    finally:
        await db.close()
    return DemoWorkspace(hub_url=hub_url, database_url=database_url, bot_token=bot_token, tokens=tokens)


async def run_simulator(
    workspace: DemoWorkspace, *, live: bool = True, seeded: threading.Event | None = None, history: int = 0
) -> None:
    """Seed the demo handoffs through the escalation engine, then keep traffic flowing; with
    ``history``, first that many resolved handoffs over the last 30 days (for the Dashboard)."""
    from warmline.catalog.service import CatalogService, make_engine
    from warmline.escalation.engine import EscalationEngine
    from warmline.sim.runner import Simulator

    engine = make_engine(workspace.database_url)
    simulator = Simulator(
        hub_url=workspace.hub_url,
        bot_token=workspace.bot_token,
        engine=EscalationEngine(catalog=CatalogService(engine)),
        left_for_people=3,  # buyers a person plays on /demo/shop (the page links them)
    )
    try:
        ids = await simulator.seed()
        log.info("seeded %d handoffs", len(ids))
        if seeded is not None:
            seeded.set()
        if history:
            await _seed_history(workspace.database_url, history)
        if live:
            await simulator.run()
    finally:
        if seeded is not None:
            seeded.set()
        await simulator.aclose()
        await engine.dispose()


async def _seed_history(database_url: str, count: int) -> None:
    from warmline.hub.metrics.demo_history import seed_history
    from warmline.hub.store.db import Database

    db = Database(database_url)
    await db.start(listen=False)
    try:
        log.info("seeded a history of %d resolved handoffs", await seed_history(db, count=count))
    finally:
        await db.close()


class SimulatorThread:
    """The simulator on its own thread and loop; ``stop()`` cancels it and waits."""

    def __init__(self, workspace: DemoWorkspace, *, live: bool, history: int = 0) -> None:
        self.workspace = workspace
        self.live = live
        self.history = history
        self.seeded = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._thread = threading.Thread(target=self._run, name="warmline-sim", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._task = loop.create_task(
            run_simulator(self.workspace, live=self.live, seeded=self.seeded, history=self.history)
        )
        try:
            loop.run_until_complete(self._task)
        except asyncio.CancelledError:
            pass
        except Exception:
            log.exception("simulator stopped")
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    def stop(self, timeout: float = 10.0) -> None:
        loop, task = self._loop, self._task
        if loop is not None and task is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(task.cancel)
        self._thread.join(timeout)


def start_demo_workspace(*, base_url: str, database_url: str) -> None:
    """`warmline hub --demo`: prepare the workspace, print the tokens, run the simulator."""
    workspace = asyncio.run(prepare_workspace(hub_url=base_url, database_url=database_url))
    _print_workspace(workspace)
    asyncio.run(run_simulator(workspace, live=True, history=DEMO_HISTORY))


def _print_workspace(workspace: DemoWorkspace) -> None:
    lines = [f"demo workspace on {workspace.hub_url} ({workspace.database_url})"]
    for person in SPECIALISTS:
        skills = ",".join(person.skills)
        lines.append(f"  specialist {person.name:<7} {skills:<45} token {workspace.tokens[person.name]}")
    lines.append(f"  bot        product-ai token {workspace.bot_token}")
    lines.append(f"  be the buyer: {workspace.hub_url}/demo/shop (a product page with the web chat)")
    lines.append(f"  try: warmline console --hub {workspace.hub_url} --token {workspace.tokens['sophie']}")
    click.echo("\n".join(lines), err=True)


@click.command()
@click.option(
    "--database-url",
    default=None,
    help="demo database (default: demo.db in the user data directory, recreated on every run)",
)
@click.option(
    "--agent",
    default="anna",
    show_default=True,
    type=click.Choice([s.name for s in SPECIALISTS]),
    help="the specialist to sign in as",
)
@click.option("--port", default=0, show_default=True, help="hub port (0: any free port)")
@click.option("--no-sim", is_flag=True, help="seed the workspace but produce no live traffic")
@click.option(
    "--screenshot",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="render offscreen, save a PNG of the main window once a handoff is shown, and exit",
)
@click.option(
    "--select",
    default=None,
    help="with --screenshot: show the first handoff whose company or summary matches",
)
def demo(
    database_url: str | None, agent: str, port: int, no_sim: bool, screenshot: Path | None, select: str | None
) -> None:
    """Run the demo: embedded hub, demo workspace, simulator and the console."""
    import os

    from warmline.hub.embedded import EmbeddedHub

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if screenshot is not None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if database_url is None:
        database_url = default_demo_database_url()
        _remove_sqlite(database_url)
    click.echo("Starting the embedded hub…", err=True)
    hub = EmbeddedHub(database_url=database_url, port=port)
    base_url = hub.start()
    simulator: SimulatorThread | None = None
    code = 1
    try:
        click.echo("Loading the demo catalog and workspace…", err=True)
        workspace = asyncio.run(prepare_workspace(hub_url=base_url, database_url=database_url))
        _print_workspace(workspace)
        live = not no_sim and screenshot is None
        simulator = SimulatorThread(workspace, live=live, history=DEMO_HISTORY if live else 0)
        simulator.start()
        if screenshot is not None and not simulator.seeded.wait(120):
            raise click.ClickException("the simulator did not seed the demo within 120 s")

        from warmline.console.app import run_console

        code = run_console(base_url, workspace.tokens[agent], screenshot=screenshot, select=select)
        if screenshot is not None and code == 0:
            click.echo(f"screenshot saved to {screenshot}", err=True)
    finally:
        if simulator is not None:
            simulator.stop()
        hub.stop()
    sys.exit(code)
