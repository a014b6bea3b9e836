"""Load products and documents into the catalog: read, check everything, then write once.

One run is one transaction. Every file is read and every row checked before anything
is written; if any row is bad the run is refused with every error as
``file:line: column: reason`` and the catalog stays as it was. Re-ingest is an upsert:
a product's fields are replaced, and its attributes, documents and relations that came
from the same file are replaced by what that file says now.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from warmline.catalog import tables as t
from warmline.catalog.mapping import Mapping
from warmline.catalog.models import DocKind
from warmline.catalog.readers import _Collector, collect
from warmline.catalog.records import (
    CHUNK,
    AttrRecord,
    DocRecord,
    ProductRecord,
    _could_be_sku,
    make_attribute,
    sku_key,
)
from warmline.catalog.units import ATTRIBUTES


class IngestError(Exception):
    """A refused run: every problem found, as ``file:line: column: reason`` lines."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(f"{errors[0]}{more}" if errors else "ingest failed")


@dataclass
class IngestReport:
    files: int = 0
    products_created: int = 0
    products_updated: int = 0
    documents: int = 0
    attributes: int = 0
    relations: int = 0
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.files} file(s): {self.products_created} product(s) created, "
            f"{self.products_updated} updated, "
            f"{self.documents} document(s), {self.attributes} attribute value(s), "
            f"{self.relations} relation(s) "
            f"in {self.seconds:.1f} s"
        )


def _chunks(items: list[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


async def _existing_ids(conn: AsyncConnection, skus: Iterable[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for part in _chunks(sorted({s for s in skus if _could_be_sku(s)})):
        rows = await conn.execute(select(t.products.c.sku, t.products.c.id).where(t.products.c.sku.in_(part)))
        found.update({sku: pid for sku, pid in rows})
    return found


async def _same_keys(conn: AsyncConnection, recs: Iterable[ProductRecord]) -> dict[str, str]:
    """sku_key -> SKU of products already in the catalog that share a key with ``recs``."""
    found: dict[str, str] = {}
    p = t.products
    for part in _chunks(sorted({sku_key(r.sku) for r in recs if _could_be_sku(r.sku)})):
        rows = await conn.execute(select(p.c.sku_key, p.c.sku).where(p.c.sku_key.in_(part)))
        found.update({key: sku for key, sku in rows})
    return found


def product_search_body(rec: ProductRecord) -> str:
    """The text a product is found by: SKU, family, maker and its stated attributes."""
    parts = [rec.sku, rec.family.replace("_", " "), rec.manufacturer]
    parts += [
        f"{ATTRIBUTES[a.name].label if a.name in ATTRIBUTES else a.name}: {a.value_text}"
        for a in rec.attributes
    ]
    return "\n".join(p for p in parts if p)


async def ingest_path(
    engine: AsyncEngine,
    path: str | Path,
    *,
    mapping: str | Path | Mapping | None = None,
    show_progress: bool = False,
) -> IngestReport:
    """Ingest a file or folder in one transaction; raises IngestError listing every bad row."""
    started = time.perf_counter()
    bar = _Progress("reading", show_progress)
    col = collect(path, mapping=mapping, progress=bar.advance)
    bar.close()
    report = IngestReport(files=col.files, warnings=col.warnings)
    async with engine.begin() as conn:
        known = await _existing_ids(
            conn,
            [r.superseded_by for r in col.products.values() if r.superseded_by]
            + [rel[1] for r in col.products.values() for rel in r.relations]
            + [r.sku for r in col.doc_products]
            + list(col.products),
        )
        in_run = set(col.products)
        taken = await _same_keys(conn, col.products.values())
        for rec in col.products.values():
            other = taken.get(sku_key(rec.sku))
            if other is not None and other != rec.sku and other not in in_run:
                col.error(
                    rec.where,
                    "sku",
                    f"{rec.sku!r} is the same SKU as {other!r} (in the catalog) "
                    "once case and punctuation are ignored",
                )
            if rec.superseded_by and rec.superseded_by not in in_run and rec.superseded_by not in known:
                col.error(rec.where, "superseded_by", f"unknown SKU {rec.superseded_by!r}")
            for kind, target, _note, where in rec.relations:
                if target not in in_run and target not in known:
                    col.error(where, kind, f"unknown SKU {target!r}")
                elif target == rec.sku:
                    col.error(where, kind, "a product cannot relate to itself")
        for rec in col.doc_products:
            if rec.sku not in in_run and rec.sku not in known:
                col.error(
                    rec.where,
                    "sku",
                    f"unknown SKU {rec.sku!r} (ingest its product first, or in the same run)",
                )
        if col.errors:
            raise IngestError(col.errors)
        await _write(conn, col, known, report, show_progress)
    report.seconds = time.perf_counter() - started
    return report


async def _write(
    conn: AsyncConnection, col: _Collector, known: dict[str, int], report: IngestReport, show_progress: bool
) -> None:
    recs = list(col.products.values())
    bar = _Progress("writing", show_progress, total=len(recs) + len(col.doc_products))
    new = [r for r in recs if r.sku not in known]
    old = [r for r in recs if r.sku in known]
    report.products_created, report.products_updated = len(new), len(old)

    def row(r: ProductRecord) -> dict[str, Any]:
        return {
            "sku": r.sku,
            "sku_key": sku_key(r.sku),
            "name": r.name,
            "family": r.family,
            "manufacturer": r.manufacturer,
            "status": r.status,
            "superseded_by": r.superseded_by,
            "origin": r.origin,
        }

    for part in _chunks(new, 5000):
        await conn.execute(insert(t.products), [row(r) for r in part])
    if old:
        stmt = (
            update(t.products)
            .where(t.products.c.id == bindparam("pid"))
            .values(
                {
                    c: bindparam(c)
                    for c in (
                        "sku_key",
                        "name",
                        "family",
                        "manufacturer",
                        "status",
                        "superseded_by",
                        "origin",
                    )
                }
            )
        )
        for part in _chunks(old, 5000):
            await conn.execute(
                stmt, [{**{k: v for k, v in row(r).items() if k != "sku"}, "pid": known[r.sku]} for r in part]
            )
    ids = {**known, **await _existing_ids(conn, [r.sku for r in new])}

    # Replace what each file said before about the products it names.
    by_origin: dict[str, set[int]] = {}
    for r in recs + col.doc_products:
        by_origin.setdefault(r.origin, set()).add(ids[r.sku])
    for origin, pids in by_origin.items():
        if not known:
            break  # a fresh catalog holds nothing to replace
        for part in _chunks(sorted(pids & set(known.values()))):
            doc_ids = select(t.documents.c.id).where(
                t.documents.c.origin == origin, t.documents.c.product_id.in_(part)
            )
            await conn.execute(delete(t.search).where(t.search.c.document_id.in_(doc_ids)))
            await conn.execute(
                delete(t.attributes).where(
                    t.attributes.c.origin == origin, t.attributes.c.product_id.in_(part)
                )
            )
            await conn.execute(
                delete(t.documents).where(t.documents.c.origin == origin, t.documents.c.product_id.in_(part))
            )
            await conn.execute(
                delete(t.relations).where(t.relations.c.origin == origin, t.relations.c.product_id.in_(part))
            )
    for part in _chunks([ids[r.sku] for r in old]):
        await conn.execute(
            delete(t.search).where(t.search.c.product_id.in_(part), t.search.c.document_id.is_(None))
        )

    attr_rows: list[dict[str, Any]] = []
    rel_rows: list[dict[str, Any]] = []
    search_rows: list[dict[str, Any]] = []
    doc_jobs: list[tuple[int, str, DocRecord]] = []
    for r in recs:
        pid = ids[r.sku]
        for a in r.attributes:
            attr_rows.append(_attr_row(pid, a, None, DocKind.TABLE.value, r.origin, r.origin))
        for kind, target, note, _where in r.relations:
            rel_rows.append(
                {"product_id": pid, "kind": kind, "target_sku": target, "note": note, "origin": r.origin}
            )
        search_rows.append(
            {
                "product_id": pid,
                "document_id": None,
                "kind": "product",
                "title": r.name,
                "body": product_search_body(r),
            }
        )
        doc_jobs.extend((pid, r.origin, d) for d in r.documents)
        bar.advance(1)
    for r in col.doc_products:
        doc_jobs.extend((ids[r.sku], r.origin, d) for d in r.documents)
        bar.advance(1)

    for part in _chunks(doc_jobs, 2000):
        result = await conn.execute(
            insert(t.documents).returning(t.documents.c.id, sort_by_parameter_order=True),
            [
                {
                    "product_id": pid,
                    "kind": d.kind,
                    "title": d.title,
                    "ref": d.ref,
                    "origin": origin,
                    "body": d.body,
                }
                for pid, origin, d in part
            ],
        )
        for (doc_id,), (pid, origin, d) in zip(result.all(), part, strict=True):
            search_rows.append(
                {"product_id": pid, "document_id": doc_id, "kind": d.kind, "title": d.title, "body": d.body}
            )
            for a in d.attributes:
                attr_rows.append(_attr_row(pid, a, doc_id, d.kind, d.title, origin))
    report.documents = len(doc_jobs)
    report.attributes = len(attr_rows)
    report.relations = len(rel_rows)
    # name_rows: how many rows each product has for each attribute (0005_catalog_perf). Exact here
    # for products new in this run; products that existed may keep rows from other files.
    counts: dict[tuple[int, str], int] = {}
    for values in attr_rows:
        key = (values["product_id"], values["name"])
        counts[key] = counts.get(key, 0) + 1
    for values in attr_rows:
        values["name_rows"] = counts[(values["product_id"], values["name"])]
    for part in _chunks(attr_rows, 20000):
        await conn.execute(insert(t.attributes), part)
    existing = sorted({ids[r.sku] for r in recs + col.doc_products} & set(known.values()))
    if existing:
        other = t.attributes.alias("other")
        same = (
            select(func.count())
            .where(other.c.product_id == t.attributes.c.product_id, other.c.name == t.attributes.c.name)
            .scalar_subquery()
        )
        for part in _chunks(existing):
            await conn.execute(
                update(t.attributes).where(t.attributes.c.product_id.in_(part)).values(name_rows=same)
            )
    for part in _chunks(rel_rows, 20000):
        await conn.execute(insert(t.relations), part)
    for part in _chunks(search_rows, 5000):
        await conn.execute(insert(t.search), part)
    await analyze(conn)
    bar.close()


async def analyze(conn: AsyncConnection) -> None:
    """Fresh planner statistics for the catalog tables (about 1 s at 100,000 SKUs on SQLite).

    Lookups choose their plan by how many rows a filter lists and leave the join order to the
    database; without statistics SQLite guesses, and picks whole-family scans."""
    for table in ("catalog_products", "catalog_attributes", "catalog_search"):
        await conn.execute(text(f"ANALYZE {table}"))


def _attr_row(
    pid: int, a: AttrRecord, doc_id: int | None, kind: str, title: str, origin: str
) -> dict[str, Any]:
    return {
        "product_id": pid,
        "name": a.name,
        "value_text": a.value_text[:500],
        "unit": a.unit,
        "dimension": a.dimension,
        "value_lo": a.lo,
        "value_hi": a.hi,
        "text_key": a.text_key,
        "document_id": doc_id,
        "source_kind": kind,
        "source_title": title[:300],
        "origin": origin,
    }


class _Progress:
    """A progress bar on stderr (only when stderr is a terminal, so logs stay clean)."""

    def __init__(self, label: str, enabled: bool, total: int | None = None) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self.label = label
        self.total = total
        self.done = 0
        self._last = 0.0

    def advance(self, n: int) -> None:
        if not self.enabled:
            return
        self.done += n
        now = time.monotonic()
        if now - self._last < 0.1:
            return
        self._last = now
        if self.total:
            width = 30
            filled = int(width * self.done / max(self.total, 1))
            sys.stderr.write(
                f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total}"
            )
        else:
            sys.stderr.write(f"\r{self.label} {self.done} file(s)")
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled and self.done:
            sys.stderr.write(f"\r{self.label}: {self.done} done{' ' * 30}\n")
            sys.stderr.flush()


__all__ = [
    "IngestError",
    "IngestReport",
    "analyze",
    "collect",
    "ingest_path",
    "make_attribute",
    "product_search_body",
    "sku_key",
]
