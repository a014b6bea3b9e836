"""`warmline catalog ingest | search | spec | subs | acc`: the catalog from the command line."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click

T = TypeVar("T")


def _default_url() -> str:
    from warmline.storage.urls import default_database_url

    return default_database_url()


def _db_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--database-url",
        envvar="WARMLINE_DATABASE_URL",
        default=None,
        help="Database URL (default: WARMLINE_DATABASE_URL, else the default SQLite file).",
    )(f)


def _json_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(f)


def _run(database_url: str | None, work: Callable[[Any], Awaitable[T]]) -> T:
    """Migrate the database, run ``work(service)`` and turn lookup errors into clear messages."""
    from warmline.catalog.service import CatalogService, ProductNotFound, make_engine
    from warmline.catalog.units import ConstraintError
    from warmline.storage.migrate import upgrade

    url = database_url or _default_url()

    async def main() -> T:
        await upgrade(url)
        engine = make_engine(url)
        try:
            return await work(CatalogService(engine))
        finally:
            await engine.dispose()

    try:
        return asyncio.run(main())
    except ProductNotFound as exc:
        hint = f"\nclosest matches: {', '.join(exc.closest)}" if exc.closest else ""
        raise click.ClickException(f"product {exc.sku!r} not found{hint}") from None
    except ConstraintError as exc:
        raise click.UsageError(f"cannot read constraint {exc.text!r}: {exc.part!r} {exc.reason}") from None


def _dump(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def _table(headers: list[str], rows: list[list[str]]) -> None:
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [min(max(w, len(c)), 60) for w, c in zip(widths, row, strict=True)]

    def line(cells: list[str]) -> str:
        return "  ".join(
            (c if len(c) <= w else c[: w - 1] + "…").ljust(w) for c, w in zip(cells, widths, strict=True)
        )

    click.echo(line(headers).rstrip())
    click.echo("  ".join("-" * w for w in widths))
    for row in rows:
        click.echo(line(row).rstrip())


@click.group()
def catalog() -> None:
    """Products, documents and units: ingest, search, spec sheets, substitutes, accessories."""


@catalog.command()
@click.argument("path", type=click.Path(exists=True))
@click.option(
    "--mapping", type=click.Path(exists=True, dir_okay=False), help="TOML mapping for a foreign table."
)
@_db_option
def ingest(path: str, mapping: str | None, database_url: str | None) -> None:
    """Load CSV / JSON / JSON Lines files and documents (md, txt, pdf) from PATH in one transaction."""
    from warmline.catalog.ingest import IngestError, ingest_path
    from warmline.catalog.mapping import MappingError

    try:
        report = _run(
            database_url, lambda svc: ingest_path(svc.engine, path, mapping=mapping, show_progress=True)
        )
    except IngestError as exc:
        for line in exc.errors:
            click.echo(line, err=True)
        raise click.ClickException(f"refused: {len(exc.errors)} error(s); nothing was written") from None
    except MappingError as exc:
        raise click.ClickException(str(exc)) from None
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(report.summary())


@catalog.command()
@click.argument("query", nargs=-1, required=True)
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 200))
@_json_option
@_db_option
def search(query: tuple[str, ...], limit: int, as_json: bool, database_url: str | None) -> None:
    """Search names, attributes and documents; filters like family:gearbox ip>=65 torque>=180Nm."""
    hits = _run(database_url, lambda svc: svc.search(" ".join(query), limit=limit))
    if as_json:
        _dump([h.model_dump(mode="json") for h in hits])
        return
    if not hits:
        click.echo("no matches")
        return
    _table(
        ["sku", "name", "family", "status", "score", "from", "snippet"],
        [
            [
                h.sku,
                h.name,
                h.family,
                h.status.value,
                f"{h.score:.2f}",
                h.doc_kind.value if h.doc_kind else "product",
                h.snippet,
            ]
            for h in hits
        ],
    )


@catalog.command()
@click.argument("sku")
@_json_option
@_db_option
def spec(sku: str, as_json: bool, database_url: str | None) -> None:
    """Everything known about SKU: attributes with unit and source, conflicts, documents."""
    sheet = _run(database_url, lambda svc: svc.spec_sheet(sku))
    if as_json:
        _dump(sheet.model_dump(mode="json"))
        return
    p = sheet.product
    click.echo(f"{p.sku}  {p.name}")
    status = p.status.value + (
        f" -> {' -> '.join(sheet.supersession_chain)}" if sheet.supersession_chain else ""
    )
    click.echo(
        f"family: {p.family}   maker: {p.manufacturer or '-'}   status: {status}   evidence: {sheet.evidence}"
    )
    click.echo("")
    _table(
        ["attribute", "value", "source", "kind", "note"],
        [
            [
                a.label,
                a.value,
                a.source.document_title,
                a.source.document_kind.value,
                "CONFLICT" if a.conflict else ("marketing only" if a.marketing_only else ""),
            ]
            for a in sheet.attributes
        ],
    )
    if sheet.conflicts:
        click.echo("\nconflicts:")
        for c in sheet.conflicts:
            click.echo(f"  ! {c.note}")
    if sheet.documents:
        click.echo("\ndocuments:")
        for d in sheet.documents:
            click.echo(f"  [{d.kind.value}] {d.title}  ({d.ref})")
    if sheet.relations:
        click.echo("\nrelations:")
        for r in sheet.relations:
            arrow = "->" if r.direction == "out" else "<-"
            click.echo(f"  {r.kind.value} {arrow} {r.sku}")


@catalog.command()
@click.argument("sku")
@click.argument("constraints", nargs=-1)
@click.option("--include-discontinued", is_flag=True, help="Also propose discontinued parts.")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 100))
@_json_option
@_db_option
def subs(
    sku: str,
    constraints: tuple[str, ...],
    include_discontinued: bool,
    limit: int,
    as_json: bool,
    database_url: str | None,
) -> None:
    """Substitutes for SKU meeting CONSTRAINTS, such as 'torque>=180Nm' 'ip>=65' voltage:400V."""
    cands = _run(
        database_url,
        lambda svc: svc.substitutes(
            sku, list(constraints), include_discontinued=include_discontinued, limit=limit
        ),
    )
    if as_json:
        _dump([c.model_dump(mode="json") for c in cands])
        return
    if not cands:
        click.echo("no substitutes found")
        return
    for c in cands:
        flag = " (successor)" if c.via_supersession else ""
        click.echo(f"{c.rank}. {c.product.sku}  {c.product.name}  [{c.product.status.value}]{flag}")
        click.echo(f"   {c.confidence_note}")
        click.echo(f"   why: {c.why}")
        for v in c.verdicts:
            mark = {"meets": "✓", "fails": "✗", "unknown": "?"}[v.verdict.value]
            implied = " (like original)" if v.implicit else ""
            click.echo(
                f"   {mark} {v.constraint}{implied}: {v.actual or 'no data'}"
                + (f"  [{v.source}]" if v.source else "")
            )


@catalog.command()
@click.argument("sku")
@_json_option
@_db_option
def acc(sku: str, as_json: bool, database_url: str | None) -> None:
    """Accessories and complements for SKU (relations first, then family rules)."""
    items = _run(database_url, lambda svc: svc.accessories(sku))
    if as_json:
        _dump([i.model_dump(mode="json") for i in items])
        return
    if not items:
        click.echo("no accessories or complements known")
        return
    _table(
        ["sku", "name", "family", "relation", "note"],
        [[i.product.sku, i.product.name, i.product.family, i.relation, i.note] for i in items],
    )


@catalog.command("demo-generate", hidden=True)
@click.option(
    "--out", type=click.Path(file_okay=False), default=None, help="Folder (default: resources/catalog)."
)
def demo_generate(out: str | None) -> None:
    """Regenerate the demo catalog files (deterministic)."""
    from warmline.catalog.demo import write_demo_catalog

    path = write_demo_catalog(out)
    click.echo(f"demo catalog written to {path}", err=sys.stderr.isatty())
