"""Lifecycle commands: `warmline agents revoke NAME`, `warmline tokens rotate NAME`,
`warmline erase --conversation ID`, `warmline audit`, `warmline backup FILE`,
`warmline restore FILE`.

``agents`` is the group of warmline.hub.commands (with signin-code from
warmline.hub.signin_commands); cli.py loads it from here so `warmline agents` lists all.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from warmline.hub.commands import _settings, _with_db, database_option
from warmline.hub.signin_commands import agents


def _run_write(url: str, fn: Any) -> Any:
    from warmline.hub.errors import HubError

    async def run(db: Any) -> Any:
        async with db.write() as tx:
            return await fn(tx)

    try:
        return _with_db(url, run)
    except HubError as exc:
        raise click.ClickException(exc.message) from None


@agents.command("revoke")
@click.argument("name")
@database_option
def agents_revoke(name: str, database_url: str | None) -> None:
    """Revoke every token of specialist (or bot) NAME now; their open streams close within seconds."""
    from warmline.hub.lifecycle import audit, tokens

    url = _settings(database_url=database_url).database_url
    count = _run_write(url, lambda tx: tokens.revoke(tx, name=name, actor=audit.cli_actor()))
    click.echo(f"revoked {count} token(s) of {name}", err=True)


@click.group()
def tokens() -> None:
    """Token rotation."""


@tokens.command("rotate")
@click.argument("name")
@click.option(
    "--grace",
    "grace_s",
    type=click.FloatRange(0, None),
    default=None,
    help="seconds the old token keeps working (default: WARMLINE_TOKEN_ROTATION_GRACE_S, 24 h)",
)
@database_option
def tokens_rotate(name: str, grace_s: float | None, database_url: str | None) -> None:
    """A new token for specialist or bot NAME (last line of stdout); the old one works for the grace."""
    from warmline.hub.lifecycle import audit
    from warmline.hub.lifecycle import tokens as lifecycle_tokens

    settings = _settings(database_url=database_url)
    grace = settings.token_rotation_grace_s if grace_s is None else grace_s
    done = _run_write(
        settings.database_url,
        lambda tx: lifecycle_tokens.rotate(tx, name=name, grace_s=grace, actor=audit.cli_actor()),
    )
    click.echo(
        f"new token for {done.kind} {name}; {done.replaced} old token(s) valid until "
        f"{done.old_valid_until:%Y-%m-%d %H:%M:%S} UTC:",
        err=True,
    )
    click.echo(done.token)


@click.command("erase")
@click.option("--conversation", "conversation_id", required=True, help="the conversation's id (cnv_...)")
@database_option
def erase(conversation_id: str, database_url: str | None) -> None:
    """Erase a buyer's personal data from one conversation (kept: counts, timings, SKUs)."""
    from warmline.hub.lifecycle import audit, erasure

    url = _settings(database_url=database_url).database_url
    done = _run_write(
        url,
        lambda tx: erasure.erase_conversation(tx, conversation_id=conversation_id, actor=audit.cli_actor()),
    )
    click.echo(f"erased {conversation_id}: " + ", ".join(f"{k} {v}" for k, v in done.items()), err=True)


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@database_option
def backup_command(file: Path, database_url: str | None) -> None:
    """Back up the database to FILE while the hub runs (SQLite: online backup; PostgreSQL: pg_dump)."""
    from warmline.hub.lifecycle import audit, backup

    url = _settings(database_url=database_url).database_url

    async def note(tx: Any) -> None:  # (before the copy: the backup holds its own entry)
        await audit.record(tx.session, actor=audit.cli_actor(), action="backup", target=str(file))

    _run_write(url, note)
    try:
        size = backup.backup(url, file)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"backed up to {file} ({size} bytes)", err=True)


@click.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="do not ask (the current database is replaced)")
@database_option
def restore_command(file: Path, yes: bool, database_url: str | None) -> None:
    """Replace the database with the backup FILE. Stop every hub first."""
    from warmline.hub.lifecycle import audit, backup

    url = _settings(database_url=database_url).database_url
    if not yes:
        click.confirm(f"replace the database at {url.split('@')[-1]} with {file}?", abort=True)
    try:
        backup.restore(url, file)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    done = _with_db(url, lambda db: backup.after_restore(db, source=str(file), actor=audit.cli_actor()))
    click.echo(
        f"restored {file}: newest event {done['newest_event_id']}, new events from {done['next_event_id']}",
        err=True,
    )


@click.command("audit")
@click.option("--after", default=0, show_default=True, help="entries after this id")
@click.option("--json", "as_json", is_flag=True, help="one JSON object per line")
@database_option
def audit_command(after: int, as_json: bool, database_url: str | None) -> None:
    """The audit log: who revoked, rotated, erased, restored or changed settings."""
    from warmline.hub.lifecycle import audit

    url = _settings(database_url=database_url).database_url

    async def run(db: Any) -> list[Any]:
        async with db.read() as session:
            return await audit.entries(session, after=after, limit=100_000)

    for row in _with_db(url, run):
        item = {
            "id": row.id,
            "at": row.at.isoformat(),
            "actor": row.actor,
            "action": row.action,
            "target": row.target,
            "detail": row.detail,
        }
        if as_json:
            click.echo(json.dumps(item, sort_keys=True))
        else:
            detail = json.dumps(row.detail, sort_keys=True)
            click.echo(
                f"{row.id}\t{row.at:%Y-%m-%d %H:%M:%S}\t{row.actor}\t{row.action}\t{row.target}\t{detail}"
            )


__all__ = ["agents", "agents_revoke", "audit_command", "backup_command", "erase", "restore_command", "tokens"]
