"""`warmline eval escalation FILE.jsonl [--json] [--policy NEW.toml [--compare]]`: score the engine on
labelled conversations (``--compare``: the shipped policy and NEW side by side)."""

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
@click.option("--by-intent", "by_intent", is_flag=True,
              help="Also print precision/recall per escalation intent (reason).")  # fmt: skip
@click.option("--no-explain", "no_explain", is_flag=True, help="List misses without per-turn explanations.")
@click.option("--compare", "compare", is_flag=True,
              help="With --policy: also score the shipped policy; before/after side by side.")  # fmt: skip
def escalation(
    file: Path,
    as_json: bool,
    database_url: str | None,
    policy_path: Path | None,
    by_intent: bool,
    no_explain: bool,
    compare: bool,
) -> None:
    """Replay FILE's conversations through the engine; print precision, recall, F1 and more."""
    try:
        conversations = load_dataset(file)
        policy = Policy.load(policy_path)
    except (DatasetError, PolicyError) as exc:
        raise click.ClickException(str(exc)) from exc
    if compare:
        if policy_path is None:
            raise click.UsageError("--compare needs --policy NEW.toml")
        from warmline.escalation.policy_compare import compare as before_after
        from warmline.escalation.policy_compare import format_comparison

        before = asyncio.run(_run(conversations, Policy.load(None), database_url)).as_dict()
        after = asyncio.run(_run(conversations, policy, database_url)).as_dict()
        result = before_after(before, after)
        click.echo(json.dumps(result, indent=2) if as_json else format_comparison(result, policy_path.name))
        return
    report = asyncio.run(_run(conversations, policy, database_url))
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=None if not sys.stdout.isatty() else 2))
    else:
        click.echo(format_report(report, by_intent=by_intent, explain=not no_explain))


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


@click.group(name="escalation")
def escalation_group() -> None:
    """The escalation engine's learned parts."""


@escalation_group.command(name="train")
@click.option("--data", "data", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Labelled buyer turns (default: resources/escalation/training.jsonl).")  # fmt: skip
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the model (default: resources/escalation/intent-model.json).")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print the cross-validated figures as JSON.")
def train_command(data: Path | None, out: Path | None, as_json: bool) -> None:
    """Train the intent classifier (deterministic) and print cross-validated figures."""
    from warmline.escalation.training import check_scorer, load_turns, train, write_model
    from warmline.resources import resource_path

    data = data or resource_path("escalation", "training.jsonl")
    out = out or resource_path("escalation", "intent-model.json")
    result = train(data)
    texts, _ = load_turns(data)
    drift = check_scorer(result.model, texts)
    if drift > 1e-6:
        raise click.ClickException(f"numpy scorer differs from scikit-learn by {drift:g}")
    write_model(result.model, out)
    if as_json:
        click.echo(json.dumps({"version": result.model["version"], "turns": result.n_turns, **result.cv}))
        return
    click.echo(f"model {result.model['version']} -> {out} ({out.stat().st_size // 1024} KiB)")
    click.echo(f"{result.n_turns} turns, {len(result.model['classes'])} intents; 5-fold cross-validated:")
    click.echo(f"accuracy {result.cv['accuracy']:.3f}")
    click.echo(f"{'intent':<24}{'precision':>10}{'recall':>8}{'n':>6}")
    for name, row in result.cv["per_intent"].items():
        click.echo(f"{name:<24}{row['precision']:>10.3f}{row['recall']:>8.3f}{row['support']:>6}")
    cal = result.cv["calibration"]
    bins = [f"{b['bin']}: {b['mean_p']:.2f}/{b['observed']:.2f} (n={b['n']})" for b in cal]
    click.echo("calibration (mean predicted / observed): " + "; ".join(bins))
