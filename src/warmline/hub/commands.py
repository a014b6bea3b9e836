"""`warmline hub`, `warmline agents add|list`, `warmline bots add`, `warmline db upgrade`."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import inspect
import sys
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click

from warmline.hub.settings import HubSettings

T = TypeVar("T")

database_option = click.option(
    "--database-url",
    envvar="WARMLINE_DATABASE_URL",
    default=None,
    help="sqlite:///PATH or postgresql://... (default: SQLite in the user data dir)",
)


def _settings(**overrides: Any) -> HubSettings:
    return HubSettings(**{k: v for k, v in overrides.items() if v is not None})


def _with_db(database_url: str, fn: Callable[[Any], Awaitable[T]]) -> T:
    """Migrate, open the database, run ``fn(db)`` and close it again."""
    from warmline.hub.store.db import Database
    from warmline.storage.migrate import upgrade

    async def main() -> T:
        await upgrade(database_url)
        db = Database(database_url)
        try:
            return await fn(db)
        finally:
            await db.close()

    return asyncio.run(main())


def make_hub_command(demo_entry: Callable[[], Callable[..., Any]] | None = None) -> click.Command:
    """`warmline hub`; with ``demo_entry`` it also takes ``--demo``.

    ``demo_entry()`` returns the function that seeds a demo workspace on the running hub
    (``fn(base_url=, database_url=)``, async or plain). The CLI (warmline.cli) passes it in,
    so the hub never imports the demo (which reaches the console and the simulator)."""

    @click.command()
    @click.option("--host", default=None, help="interface to bind (default 127.0.0.1)")
    @click.option("--port", default=None, type=int, help="port (default 8470; 0 = any free port)")
    @database_option
    @click.option("--log-level", default="info", show_default=True)
    @click.option(
        "--no-fast-paths",
        is_flag=True,
        help="take the plain path for every request (debugging; also WARMLINE_FAST_PATHS=0)",
    )
    @click.option(
        "--reply-timeout",
        type=click.FloatRange(min=0),
        default=None,
        help="seconds a claim may go without a first reply before it is requeued (0 = off; "
        "default: policy.toml [assignment])",
    )
    @click.option(
        "--idle-timeout",
        type=click.FloatRange(min=0),
        default=None,
        help="seconds an unanswered buyer message takes to flag the handoff (0 = off)",
    )
    @click.option(
        "--demo",
        is_flag=True,
        hidden=demo_entry is None,
        help="seed a demo workspace and keep simulated traffic flowing",
    )
    def hub(
        host: str | None,
        port: int | None,
        database_url: str | None,
        log_level: str,
        no_fast_paths: bool,
        reply_timeout: float | None,
        idle_timeout: float | None,
        demo: bool,
    ) -> None:
        """Run the hub (migrates the database first)."""
        if demo and demo_entry is None:
            raise click.UsageError("--demo is only available through the `warmline` command")
        fast_paths = False if no_fast_paths else None  # (None: the setting, WARMLINE_FAST_PATHS)
        serve(
            _settings(
                host=host,
                port=port,
                database_url=database_url,
                fast_paths=fast_paths,
                reply_timeout_s=reply_timeout,
                idle_timeout_s=idle_timeout,
            ),
            log_level=log_level,
            on_started=demo_entry() if demo and demo_entry is not None else None,
        )

    return hub


def serve(settings: HubSettings, *, log_level: str, on_started: Callable[..., Any] | None = None) -> None:
    """Migrate, run the hub until Ctrl-C; ``on_started(base_url=, database_url=)`` once it listens."""
    from warmline.hub.app import create_app
    from warmline.hub.server import HubServer, server_config
    from warmline.storage.migrate import upgrade

    asyncio.run(upgrade(settings.database_url))
    app = create_app(settings)
    server = HubServer(server_config(app, host=settings.host, port=settings.port, log_level=log_level), app)

    async def main() -> None:
        serving = asyncio.create_task(server.serve())
        while not server.started and not serving.done():
            await asyncio.sleep(0.05)
        if server.started:
            port_ = server.servers[0].sockets[0].getsockname()[1] if server.servers else settings.port
            base_url = f"http://{settings.host}:{port_}"
            click.echo(f"warmline hub on {base_url} (API docs: {base_url}/docs)", err=True)
            if not settings.fast_paths:
                click.echo("fast paths off: every request takes the plain path", err=True)
            # Everything loaded so far (catalog, escalation engine, app) lives as long as the
            # process: keep it out of the collector's full passes, each of which walked it
            # all (~0.2 s stop-the-world pauses while serving, measured with gc.callbacks).
            gc.collect()
            gc.freeze()
            if on_started is not None:
                await _start_hook(on_started, base_url=base_url, database_url=settings.database_url)
        await serving

    # uvicorn re-raises the Ctrl-C it handled, after a clean shutdown
    with contextlib.suppress(KeyboardInterrupt), asyncio.Runner(loop_factory=_loop_factory()) as runner:
        runner.run(main())
    click.echo("warmline hub stopped", err=True)


hub = make_hub_command()


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop for the hub process when it is installed (uvicorn[standard] brings it): its
    loop wakes from other threads (aiosqlite's worker) and writes sockets with less CPU."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


async def _start_hook(fn: Callable[..., Any], *, base_url: str, database_url: str) -> None:
    """Async entry points run on the hub's loop; plain functions in a daemon thread."""
    if inspect.iscoroutinefunction(fn):
        task = asyncio.create_task(fn(base_url=base_url, database_url=database_url))
        _background.add(task)
        task.add_done_callback(_background.discard)
    else:
        threading.Thread(
            target=fn, kwargs={"base_url": base_url, "database_url": database_url}, daemon=True
        ).start()


_background: set[asyncio.Task[Any]] = set()


@click.group()
def agents() -> None:
    """Specialists (agents) and their tokens."""


@agents.command("add")
@click.argument("name")
@click.option("--skills", required=True, help="comma list of skills, or 'all'")
@click.option("--display-name", default="", help="name shown to buyers")
@click.option(
    "--max-active",
    type=click.IntRange(0, 1000),
    default=None,
    help="handoffs this specialist may hold at once (0 = no limit; default: the workspace's)",
)
@database_option
def agents_add(
    name: str, skills: str, display_name: str, max_active: int | None, database_url: str | None
) -> None:
    """Add a specialist; prints its token (last line of stdout)."""
    from fastapi.exceptions import RequestValidationError

    from warmline.domain.models import NewAgent
    from warmline.hub import service
    from warmline.hub.errors import HubError

    try:
        NewAgent(name=name, display_name=display_name)
    except Exception as exc:  # pydantic ValidationError: say which field and why
        raise click.BadParameter(str(exc).splitlines()[2].strip(), param_hint="NAME") from None
    skill_list = [s.strip() for s in skills.split(",") if s.strip()]
    url = _settings(database_url=database_url).database_url

    async def run(db: Any) -> tuple[Any, str]:
        async with db.write() as tx:
            return await service.create_agent(
                tx, name=name, skills=skill_list, display_name=display_name, max_active=max_active
            )

    try:
        agent, token = _with_db(url, run)
    except HubError as exc:
        raise click.ClickException(exc.message) from None
    except RequestValidationError as exc:
        raise click.BadParameter(exc.errors()[0]["msg"], param_hint="--skills") from None
    what = "all skills" if agent.all_skills else ", ".join(agent.skills) or "no skills"
    click.echo(f"added specialist {agent.name} ({what}); token:", err=True)
    click.echo(token)


@agents.command("list")
@database_option
def agents_list(database_url: str | None) -> None:
    """List specialists and their skills."""
    from warmline.hub import service

    url = _settings(database_url=database_url).database_url

    async def run(db: Any) -> list[Any]:
        async with db.read() as session:
            return await service.list_agents(session)

    for agent in _with_db(url, run):
        skills = "all" if agent.all_skills else ",".join(agent.skills)
        click.echo(f"{agent.name}\t{agent.display_name}\t{skills}")


@click.group()
def bots() -> None:
    """Bot tokens (product AI, simulator, integrations)."""


@bots.command("add")
@click.argument("name")
@database_option
def bots_add(name: str, database_url: str | None) -> None:
    """Issue a bot token; prints it (last line of stdout)."""
    from warmline.hub import service

    url = _settings(database_url=database_url).database_url

    async def run(db: Any) -> str:
        async with db.write() as tx:
            return await service.create_bot(tx, name=name)

    token = _with_db(url, run)
    click.echo(f"added bot {name}; token:", err=True)
    click.echo(token)


@click.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@database_option
def db_upgrade(database_url: str | None) -> None:
    """Migrate the database to the current schema."""
    from warmline.storage.migrate import current_revision, upgrade

    url = _settings(database_url=database_url).database_url
    asyncio.run(upgrade(url))
    click.echo(f"database at revision {asyncio.run(current_revision(url))}", err=True)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(hub())
