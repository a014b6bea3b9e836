"""`warmline eval escalation FILE.jsonl [--json]`: score the engine on labelled conversations."""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from pathlib import Path

import click

from warmline.escalation.evaluation import DatasetError, evaluate, format_report, load_dataset
from warmline.escalation.policy import Policy, PolicyError


@click.group(name="eval")
def eval_command() -> None:
    """Evaluate Warmline's decision layers on labelled data."""


@eval_command.command(name="escalation")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of the table.")
@click.option(
    "--database-url",
    default=None,
    help="Catalog database to ground in (default: a fresh demo catalog in a temporary SQLite file).",
)
@click.option("--policy", "policy_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="A workspace policy override (TOML).")  # fmt: skip
def escalation(file: Path, as_json: bool, database_url: str | None, policy_path: Path | None) -> None:
    """Replay FILE's conversations through the engine; print precision, recall, F1 and more."""
    try:
        conversations = load_dataset(file)
        policy = Policy.load(policy_path)
    except (DatasetError, PolicyError) as exc:
        raise click.ClickException(str(exc)) from exc
    report = asyncio.run(_run(conversations, policy, database_url))
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=None if not sys.stdout.isatty() else 2))
    else:
        click.echo(format_report(report))


async def _run(conversations: list, policy: Policy, database_url: str | None):
    from warmline.catalog.demo import ensure_demo_catalog
    from warmline.catalog.service import CatalogService, make_engine
    from warmline.escalation.engine import EscalationEngine

    with tempfile.TemporaryDirectory(prefix="warmline-eval-") as tmp:
        url = database_url or f"sqlite:///{Path(tmp) / 'catalog.db'}"
        if database_url is None:
            await ensure_demo_catalog(url)
        db_engine = make_engine(url)
        try:
            engine = EscalationEngine(policy=policy, catalog=CatalogService(db_engine))
            return await evaluate(engine, conversations)
        finally:
            await db_engine.dispose()
