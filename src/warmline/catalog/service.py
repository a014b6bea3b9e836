"""Catalog lookups: search, spec sheets, substitutes and accessories, answered from data.

Used in-process by the hub and the assistant, and over HTTP under /v1/catalog. Queries
go to the database (SQLite FTS5 or PostgreSQL full-text for text, an indexed table of
normalised attribute values for filters); the rules (which source wins, what a verdict
is, how substitutes rank) live here.
"""

from __future__ import annotations

import collections
import contextlib
import difflib
import functools
import math
import re
import tomllib
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from sqlalchemy import (
    Integer,
    String,
    and_,
    bindparam,
    exists,
    func,
    intersect,
    literal,
    literal_column,
    not_,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker
from sqlalchemy.sql.elements import ColumnElement

from warmline.catalog import tables as t
from warmline.catalog.ingest import sku_key
from warmline.catalog.models import (
    AccessoryItem,
    AttributeSource,
    ConstraintVerdict,
    DocKind,
    DocumentInfo,
    Lifecycle,
    ProductSummary,
    RelationInfo,
    RelationKind,
    SearchHit,
    SpecAttribute,
    SpecConflict,
    SpecSheet,
    SubstituteCandidate,
    Verdict,
)
from warmline.catalog.units import (
    ATTRIBUTES,
    MAX_MAGNITUDE,
    PRODUCT_FIELDS,
    RATING_DIMENSIONS,
    Constraint,
    ConstraintError,
    Quantity,
    compare,
    compare_values,
    constraint_from_packet,
    is_plain_text,
    parse_constraint,
)
from warmline.resources import resource_path

# Which statement of a value wins when sources disagree (lower is more authoritative).
SOURCE_RANK = {"table": 0, "datasheet": 1, "certificate": 2, "manual": 3, "other": 4, "marketing": 5}
_SQLITE_SQUASH = 5.0  # score = raw / (raw + k): bm25 around k scores 0.5
RANK_CAP = 600  # most texts bm25 ranks for one query on SQLite (see CatalogService._fts)
_PG_SQUASH = 0.1
# A filter matching at most this many attribute rows (or family products) drives the lookup:
# its products are listed from the index first and everything else is checked on them only.
DRIVER_MAX = 2000
# A substitute rated over this many times an asked minimum on a sized_by attribute (families.toml)
# is not proposed: a 750 N·m gearbox is no answer to a 180 N·m need (issue 17).
OVERSIZE_FACTOR = 2.5
MAX_SKU_CHARS = 100  # catalog_products.sku is VARCHAR(100)


class ProductNotFound(LookupError):
    """No product with this SKU; ``closest`` are the nearest SKUs that exist."""

    def __init__(self, sku: str, closest: list[str]) -> None:
        self.sku = sku
        self.closest = closest
        hint = f"; closest: {', '.join(closest)}" if closest else ""
        super().__init__(f"product {sku!r} not found{hint}")


@dataclass(frozen=True)
class FamilyRules:
    match: tuple[str, ...] = ()
    same: tuple[str, ...] = ()
    at_least: tuple[str, ...] = ()
    closest: str | None = None
    complements: tuple[tuple[str, tuple[str, ...]], ...] = ()
    sized_by: tuple[str, ...] = ()


@cache
def family_rules() -> dict[str, FamilyRules]:
    """Substitute and complement rules per family (resources/catalog/families.toml)."""
    data = tomllib.loads(resource_path("catalog", "families.toml").read_text(encoding="utf-8"))
    out = {}
    for fam, spec in data.items():
        sub = spec.get("substitute", {})
        out[fam] = FamilyRules(
            match=tuple(sub.get("match", ())),
            same=tuple(sub.get("same", ())),
            at_least=tuple(sub.get("at_least", ())),
            closest=sub.get("closest"),
            sized_by=tuple(sub.get("sized_by", ())),
            complements=tuple((c["family"], tuple(c.get("match", ()))) for c in spec.get("complements", ())),
        )
    return out


@dataclass
class _Hit:
    product_id: int
    kind: str
    title: str
    raw: float
    body: str
    tokens: list[str]
    sku: str
    name: str
    family: str
    status: str

    @property
    def snippet(self) -> str:
        """Made only for the hits returned (a regex over up to 4000 characters each)."""
        return _snippet(self.body, self.tokens) or self.title


@dataclass(frozen=True)
class _Doc:
    """One document row of a spec sheet."""

    title: str
    kind: str
    ref: str
    origin: str
    head: str | None


@dataclass
class _Value:
    """One attribute statement as read from the database."""

    name: str
    value_text: str
    unit: str
    dimension: str | None
    lo: float | None
    hi: float | None
    text_key: str | None
    kind: str
    title: str
    ref: str

    @functools.cached_property
    def quantity(self) -> Quantity | None:
        if self.dimension is None or self.lo is None:
            return None
        rating = self.value_text if self.dimension in RATING_DIMENSIONS else None
        # Values straight from the database's columns: no validation needed (it cost ~10 µs each).
        return Quantity.model_construct(
            value=float(self.lo),
            value_max=None if self.hi is None or self.hi == self.lo else float(self.hi),
            dimension=self.dimension,
            unit=self.unit,
            rating=rating,
            original=self.value_text,
        )

    def source(self) -> AttributeSource:
        return AttributeSource(
            value=self.value_text,
            value_si=self.lo,
            document_title=self.title,
            document_kind=DocKind(self.kind),
            ref=self.ref,
        )


@dataclass
class _Attr:
    """Every statement of one attribute for one product, most authoritative first."""

    name: str
    values: list[_Value] = field(default_factory=list)

    @property
    def primary(self) -> _Value:
        return self.values[0]

    @functools.cached_property
    def conflict(self) -> bool:
        # Read only once the values are complete (after _values has filled and sorted them).
        return len({_same_key(v) for v in self.values}) > 1

    @property
    def marketing_only(self) -> bool:
        return all(v.kind == "marketing" for v in self.values)


@dataclass(frozen=True)
class _Statements:
    """Statements built once (constructing SQLAlchemy expressions costs ~1 ms a lookup)."""

    product_by_sku: Any
    values_all: Any
    values_named: Any
    spec_parts: Any
    successor_of: Any
    replaced_by: Any
    products_by_ids_or_skus: Any


@cache
def _stmts() -> _Statements:
    """The hot lookups' statements, with bound parameters."""
    p, a, d, r = t.products, t.attributes, t.documents, t.relations
    values = (
        select(
            a.c.product_id,
            a.c.name,
            a.c.value_text,
            a.c.unit,
            a.c.dimension,
            a.c.value_lo,
            a.c.value_hi,
            a.c.text_key,
            a.c.source_kind,
            a.c.source_title,
            a.c.origin,
            d.c.ref,
        )
        .outerjoin(d, d.c.id == a.c.document_id)
        .where(a.c.product_id.in_(bindparam("ids", expanding=True)))
    )
    blank = literal("", String)
    parts = union_all(
        select(
            literal(0, Integer).label("tag"),
            d.c.id.label("oid"),
            d.c.kind,
            d.c.title.label("a"),
            d.c.ref.label("b"),
            d.c.origin.label("c"),
            func.substr(d.c.body, 1, 400).label("head"),
        ).where(d.c.product_id == bindparam("pid")),
        select(literal(1, Integer), r.c.id, r.c.kind, r.c.target_sku, r.c.note, blank, blank).where(
            r.c.product_id == bindparam("pid")
        ),
        select(literal(2, Integer), r.c.id, r.c.kind, p.c.sku, r.c.note, blank, blank)
        .join(p, p.c.id == r.c.product_id)
        .where(r.c.target_sku == bindparam("sku")),
    ).subquery("parts")
    return _Statements(
        product_by_sku=select(p).where(p.c.sku == bindparam("sku")),
        values_all=values.order_by(a.c.id),
        values_named=values.where(a.c.name.in_(bindparam("names", expanding=True))).order_by(a.c.id),
        spec_parts=select(parts).order_by(parts.c.tag, parts.c.oid),
        successor_of=select(p.c.superseded_by).where(p.c.sku == bindparam("sku")),
        replaced_by=select(p.c.sku)
        .join(r, r.c.product_id == p.c.id)
        .where(r.c.kind == RelationKind.REPLACES.value, r.c.target_sku == bindparam("sku")),
        products_by_ids_or_skus=select(p).where(
            or_(p.c.id.in_(bindparam("ids", expanding=True)), p.c.sku.in_(bindparam("skus", expanding=True)))
        ),
    )


@functools.lru_cache(maxsize=64)
def _sqlite_form(stmt: Any) -> tuple[str, tuple[str, ...], frozenset[str], dict[str, Any], Any]:
    """A prebuilt statement as SQLite SQL: text, parameter names in "?" order, the expanding ones
    (lists, spliced per call), the values of its literals, and a row type with its column names."""
    from sqlalchemy.dialects import sqlite

    c = stmt.compile(dialect=sqlite.dialect())
    sql = str(c)
    order = tuple(c.positiontup or ())
    expanding = frozenset(n for n in order if f"__[POSTCOMPILE_{n}]" in sql)
    row = collections.namedtuple("Row", [col.key for col in stmt.selected_columns], rename=True)  # type: ignore[misc]
    return sql, order, expanding, dict(c.params), row


async def _fetch(
    conn: AsyncConnection, stmt: Any, params: dict[str, Any], *, named: bool = True
) -> list[Any]:
    """Rows of a prebuilt statement (one of _stmts()'). On SQLite straight on the aiosqlite connection:
    one hand-off to its thread instead of SQLAlchemy's four (cursor, execute, fetchall, close), and no
    per-call statement work. Rows read by position or column name, as SQLAlchemy's (by position
    only, as plain tuples, unless ``named``)."""
    if conn.dialect.name != "sqlite":
        return list((await conn.execute(stmt, params)).all())
    sql, order, expanding, defaults, row = _sqlite_form(stmt)
    args: list[Any] = []
    for name in order:
        value = params[name] if name in params else defaults[name]
        if name in expanding:
            sql = sql.replace(f"__[POSTCOMPILE_{name}]", ",".join("?" * len(value)) or "NULL", 1)
            args.extend(value)
        else:
            args.append(value)
    got = await (await _aiosqlite(conn)).execute_fetchall(sql, args)
    return [row._make(r) for r in got] if named else list(got)


async def _aiosqlite(conn: AsyncConnection) -> Any:
    """The aiosqlite connection under ``conn`` (same connection, same transaction)."""
    return (await conn.get_raw_connection()).driver_connection


_WHERE = "\nWHERE "  # where a compiled select's own WHERE clause starts (subqueries come after it)


@cache
def _sqlite_named() -> Any:
    """The SQLite dialect rendering parameters as ``:name`` (as ``text()`` reads them)."""
    from sqlalchemy.dialects import sqlite

    return sqlite.dialect(paramstyle="named")


def _same_key(v: _Value) -> Any:
    """Values that count as "the same" (1 % apart, or the same text) share a key."""
    if v.lo is not None and v.dimension not in RATING_DIMENSIONS:

        def r(x: float | None) -> float | None:
            if x is None:
                return None
            return 0.0 if x == 0 else round(math.log10(abs(x)) * 230) * (1 if x > 0 else -1)  # ~1 % bins

        return (r(v.lo), r(v.hi))
    return (v.text_key or v.value_text).strip().lower()


def _as_constraints(items: Iterable[Any]) -> list[Constraint]:
    out = []
    for c in items:
        if isinstance(c, Constraint):
            out.append(c)
        elif isinstance(c, str):
            out.append(parse_constraint(c))
        elif hasattr(c, "name") and hasattr(c, "value"):
            out.append(constraint_from_packet(c))
        else:
            raise ConstraintError(str(c), str(c), "is not a constraint")
    return out


def parse_search_query(query: str) -> tuple[str, list[Constraint]]:
    """Split "washdown family:gearbox torque>=180Nm" into free text and filters.

    Raises ConstraintError for a filter it cannot read, and for a query that is not text
    (a NUL or a lone surrogate: no catalog value holds one, and no database takes one)."""
    if not is_plain_text(query):
        raise ConstraintError(query, query, "contains a NUL character or a lone surrogate (not text)")
    words, filters = [], []
    for token in re.findall(r'"[^"]*"|\S+', query):
        bare = token.strip('"')
        if re.search(r"(>=|<=|!=|=>|=<|≥|≤|[<>=]|(?<=[A-Za-z]):(?=\S))", bare) and not token.startswith('"'):
            filters.append(parse_constraint(bare))
        else:
            words.append(bare)
    return " ".join(words).strip(), filters


class CatalogService:
    """The catalog's lookups over an async engine (or session factory)."""

    def __init__(self, engine_or_sessionmaker: AsyncEngine | async_sessionmaker[Any]) -> None:
        if isinstance(engine_or_sessionmaker, AsyncEngine):
            self.engine: AsyncEngine = engine_or_sessionmaker
        else:
            bind = engine_or_sessionmaker.kw.get("bind")
            if not isinstance(bind, AsyncEngine):
                raise TypeError("CatalogService needs an AsyncEngine or an async_sessionmaker bound to one")
            self.engine = bind
        self.dialect = self.engine.dialect.name
        # Plan choice, for tests comparing plans: None = by estimated selectivity; "scan" = the
        # plain scans (FTS or value walk checking every row); "driver" = start from the rarest
        # filter whenever one can drive; "walk" = value walk that skips ranges no row can meet.
        self._force: str | None = None

    @contextlib.asynccontextmanager
    async def _conn(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.connect() as conn:
            yield conn

    # --- products ------------------------------------------------------------------

    async def _product_row(self, conn: AsyncConnection, sku: str) -> Any:
        p = t.products
        if len(sku) > MAX_SKU_CHARS or not is_plain_text(sku):
            return None  # no SKU is that long or holds a NUL (ingest refuses both)
        found = await _fetch(conn, _stmts().product_by_sku, {"sku": sku})
        row = found[0] if found else None
        if row is None:
            key = sku_key(sku)
            if key:
                rows = (await conn.execute(select(p).where(p.c.sku_key == key).limit(2))).all()
                row = rows[0] if len(rows) == 1 else None
        return row

    async def _require(self, conn: AsyncConnection, sku: str) -> Any:
        row = await self._product_row(conn, sku)
        if row is None:
            raise ProductNotFound(sku, await self._closest(conn, sku))
        return row

    async def get_product(self, sku: str) -> ProductSummary | None:
        """The product's summary, or None (SKU match ignores case and punctuation)."""
        async with self._conn() as conn:
            row = await self._product_row(conn, sku)
            return None if row is None else _summary(row)

    async def closest_skus(self, text_: str, limit: int = 5) -> list[str]:
        """SKUs that look most like ``text_`` (for "did you mean")."""
        async with self._conn() as conn:
            return await self._closest(conn, text_, limit)

    async def _closest(self, conn: AsyncConnection, text_: str, limit: int = 5) -> list[str]:
        key = sku_key(text_[: 4 * MAX_SKU_CHARS])[:MAX_SKU_CHARS]
        if not key:
            return []
        p = t.products
        pool: dict[str, str] = {}
        for n in range(min(len(key), 6), 0, -1):
            rows = await conn.execute(
                select(p.c.sku, p.c.sku_key).where(p.c.sku_key.like(key[:n] + "%")).limit(200)
            )
            pool.update({s: k for s, k in rows})
            if len(pool) >= limit * 4:
                break
        if len(pool) < limit:
            rows = await conn.execute(
                select(p.c.sku, p.c.sku_key).where(p.c.sku_key.like("%" + key[-3:] + "%")).limit(200)
            )
            pool.update({s: k for s, k in rows})
        scored = sorted(
            pool.items(), key=lambda kv: (-difflib.SequenceMatcher(None, key, kv[1]).ratio(), kv[0])
        )
        return [s for s, _ in scored[:limit]]

    async def _values(
        self, conn: AsyncConnection, product_ids: Sequence[int], names: Sequence[str] | None = None
    ) -> dict[int, dict[str, _Attr]]:
        if not product_ids:
            return {}
        params: dict[str, Any] = {"ids": list(product_ids)}
        if names is None:
            q = _stmts().values_all
        else:
            q = _stmts().values_named
            params["names"] = list(names)
        got = await _fetch(conn, q, params, named=False)
        out: dict[int, dict[str, _Attr]] = {pid: {} for pid in product_ids}
        # Columns in _stmts()'s order, unpacked (a Row's attribute access costs ~1 µs a column).
        for pid, name, text_, unit, dim, lo, hi, key, kind, title, origin, ref in got:
            if lo is not None and not -MAX_MAGNITUDE <= lo <= MAX_MAGNITUDE:
                lo = hi = None  # stored before ingest refused such values (inf, NaN, 1e400)
            elif hi is not None and not -MAX_MAGNITUDE <= hi <= MAX_MAGNITUDE:
                lo = hi = None
            v = _Value(name, text_, unit, dim, lo, hi, key, kind, title, ref or origin)
            attrs = out[pid]
            attr = attrs.get(name)
            if attr is None:
                attr = attrs[name] = _Attr(name)
            attr.values.append(v)
        for attrs in out.values():
            for attr in attrs.values():
                attr.values.sort(key=lambda v: SOURCE_RANK.get(v.kind, 9))
        return out

    # --- spec sheet --------------------------------------------------------------------

    async def spec_sheet(self, sku: str) -> SpecSheet:
        """Everything known about a SKU: attributes with unit and source, conflicts, documents."""
        async with self._conn() as conn:
            row = await self._require(conn, sku)
            attrs = (await self._values(conn, [row.id]))[row.id]
            # Documents and relations both ways in one round trip (tag 0, 1, 2; each in id order).
            got = await _fetch(conn, _stmts().spec_parts, {"pid": row.id, "sku": row.sku})
            docs = [_Doc(x.a, x.kind, x.b, x.c, x.head) for x in got if x.tag == 0]
            rels_out = [(x.kind, x.a, x.b) for x in got if x.tag == 1]
            rels_in = [(x.kind, x.a, x.b) for x in got if x.tag == 2]
            chain = await self._chain(conn, row)
        attributes, conflicts = [], []
        for name, attr in sorted(attrs.items(), key=lambda kv: _attr_order(kv[0])):
            label = ATTRIBUTES[name].label if name in ATTRIBUTES else name.replace("_", " ").capitalize()
            p = attr.primary
            sources = [v.source() for v in attr.values]
            attributes.append(
                SpecAttribute(
                    name=name,
                    label=label,
                    value=p.value_text,
                    unit=p.unit,
                    dimension=p.dimension,
                    value_si=p.lo,
                    value_si_max=p.hi if p.hi != p.lo else None,
                    source=sources[0],
                    sources=sources,
                    conflict=attr.conflict,
                    marketing_only=attr.marketing_only,
                )
            )
            if attr.conflict:
                said = "; ".join(f"{v.title} ({v.kind}) says {v.value_text}" for v in attr.values)
                conflicts.append(
                    SpecConflict(
                        attribute=name,
                        label=label,
                        values=sources,
                        note=(
                            f"sources disagree on {label.lower()}: {said}. "
                            f"Shown: {p.value_text} from {p.title}."
                        ),
                    )
                )
        documents = [
            DocumentInfo(title=x.title, kind=DocKind(x.kind), ref=x.ref or x.origin, excerpt=_excerpt(x.head))
            for x in docs
        ]
        kinds = {x.kind for x in docs} | {v.kind for a in attrs.values() for v in a.values}
        technical = any(DocKind(k).technical for k in kinds)
        evidence = "technical" if technical else ("marketing_only" if "marketing" in kinds else "none")
        relations = [
            RelationInfo(kind=RelationKind(k), sku=s, direction="out", note=n) for k, s, n in rels_out
        ]
        relations += [
            RelationInfo(kind=RelationKind(k), sku=s, direction="in", note=n) for k, s, n in rels_in
        ]
        return SpecSheet(
            product=_summary(row),
            attributes=attributes,
            conflicts=conflicts,
            documents=documents,
            relations=relations,
            superseded_by=row.superseded_by,
            supersession_chain=chain,
            evidence=evidence,
        )

    async def _chain(self, conn: AsyncConnection, row: Any) -> list[str]:
        """Successors of a product in order (A -> B -> C), stopping at loops."""
        chain: list[str] = []
        seen = {row.sku}
        nxt = row.superseded_by
        while nxt and nxt not in seen and len(chain) < 20:
            chain.append(nxt)
            seen.add(nxt)
            got = await _fetch(conn, _stmts().successor_of, {"sku": nxt})
            nxt = got[0][0] if got else None
        return chain

    # --- search ------------------------------------------------------------------------

    async def search(self, query: str, *, limit: int = 20) -> list[SearchHit]:
        """Products matching free text and attribute filters, best first (one hit per SKU)."""
        words, filters = parse_search_query(query)
        limit = max(1, min(limit, 200))
        p = t.products
        # Inside a text search, equality filters (usually selective) become one id list; ranges
        # (usually broad) a per-row probe.
        probes = [self._filter_sql(c, p.c.id, correlated=c.op not in ("=", "exists")) for c in filters]
        async with self._conn() as conn:
            hits: list[SearchHit] = []
            seen: set[int] = set()
            # On SQLite a rare filter (few rows in its index) is read first: FTS then checks each
            # match against that short list instead of probing every match's attributes.
            # (At most RANK_CAP rows: then the plain plan could not stop early either.)
            sqlite = filters and self.dialect == "sqlite"
            drivers = await self._drivers(conn, filters, RANK_CAP) if sqlite else []
            if words:
                exact = await self._product_row(conn, words)
                if exact is not None and all(await self._passes(conn, [exact.id], filters)):
                    hits.append(_name_hit(exact, raw_score=0.0, matched_by="sku"))
                    seen.add(exact.id)
                # SKUs starting with what was typed ("GX-2": GX-220, GX-240), ahead of full text
                prefixed = await self._sku_prefix(conn, words, probes, limit)
                ok = await self._passes(conn, [r.id for r in prefixed], filters)
                for r, good in zip(prefixed, ok, strict=True):
                    if good and r.id not in seen and len(hits) < limit:
                        hits.append(_name_hit(r, raw_score=0.0, matched_by="sku_prefix"))
                        seen.add(r.id)
                tokens = re.findall(r"\w+", words.lower())
                if tokens:
                    n = limit * 4
                    rows = await self._fts(conn, tokens, probes, n, any_token=False, drivers=drivers)
                    if not rows and len(tokens) > 1:
                        rows = await self._fts(conn, tokens, probes, n, any_token=True, drivers=drivers)
                    rows = [r for r in rows if r.product_id not in seen]
                    ok = await self._passes(conn, [r.product_id for r in rows], filters)
                    k = _SQLITE_SQUASH if self.dialect == "sqlite" else _PG_SQUASH
                    for r, good in zip(rows, ok, strict=True):
                        if not good or r.product_id in seen:
                            continue
                        seen.add(r.product_id)
                        raw = float(r.raw)
                        hits.append(
                            SearchHit(
                                sku=r.sku,
                                name=r.name,
                                family=r.family,
                                status=Lifecycle(r.status),
                                score=round(raw / (raw + k), 4) if raw > 0 else 0.0,
                                raw_score=raw,
                                snippet=_clean_snippet(r.snippet),
                                doc_kind=None if r.kind == "product" else DocKind(r.kind),
                                doc_title=None if r.kind == "product" else r.title,
                            )
                        )
                        if len(hits) >= limit:
                            break
            elif filters:
                listed = select(p.c.id, p.c.sku, p.c.name, p.c.family, p.c.status).where(and_(*probes))
                if drivers:
                    # The drivers' few products first (CROSS JOIN keeps that order), then sorted.
                    cond_sql, cond_args = self._embed(listed, "c")
                    drows, drow_args = self._embed(self._driver_rows(drivers), "d")
                    listed_sql = (
                        "SELECT catalog_products.id, catalog_products.sku, catalog_products.name, "
                        f"catalog_products.family, catalog_products.status FROM ({drows}) AS d "
                        "CROSS JOIN catalog_products ON catalog_products.id = d.pid "
                        f"WHERE {cond_sql.split(_WHERE, 1)[1]} GROUP BY catalog_products.id "
                        "ORDER BY catalog_products.sku LIMIT :n"
                    )
                    args = {"n": limit * 4, **cond_args, **drow_args}
                    rows = (await conn.execute(text(listed_sql), args)).all()
                else:
                    rows = (await conn.execute(listed.order_by(p.c.sku).limit(limit * 4))).all()
                ok = await self._passes(conn, [r.id for r in rows], filters)
                for r, good in zip(rows, ok, strict=True):
                    if good and len(hits) < limit:
                        hits.append(_name_hit(r, raw_score=1.0, matched_by="filters"))
            return hits[:limit]

    async def _sku_prefix(
        self, conn: AsyncConnection, words: str, conds: list[ColumnElement[bool]], n: int
    ) -> list[Any]:
        """Products whose SKU starts with ``words`` (case and punctuation ignored) and that pass
        ``conds``, in SKU order: one range of the sku_key index. Only for one SKU-like word."""
        key = sku_prefix_key(words)
        if key is None:
            return []
        p = t.products
        q = select(p.c.id, p.c.sku, p.c.name, p.c.family, p.c.status).where(
            p.c.sku_key >= key, p.c.sku_key.startswith(key, autoescape=True), *conds
        )
        upper = _key_successor(key)
        if upper is not None:
            q = q.where(p.c.sku_key < upper)
        return list((await conn.execute(q.order_by(p.c.sku_key, p.c.sku).limit(n))).all())

    async def _fts(
        self,
        conn: AsyncConnection,
        tokens: list[str],
        conds: list[ColumnElement[bool]],
        n: int,
        *,
        any_token: bool,
        drivers: Sequence[Constraint] = (),
    ) -> list[Any]:
        p, s = t.products, t.search
        where = and_(*conds) if conds else text("1=1")
        if self.dialect == "sqlite":
            terms = (" OR " if any_token else " ").join('"' + tok.replace('"', "") + '"' for tok in tokens)
            where_sql = ""
            args: dict[str, Any] = {}
            from_sql = (
                "FROM catalog_fts CROSS JOIN catalog_search ON catalog_search.id = catalog_fts.rowid "
                "CROSS JOIN catalog_products ON catalog_products.id = catalog_search.product_id "
            )
            if conds and drivers:
                # The texts of the products that pass, listed once from the rare filter's index;
                # "+" keeps FTS5 scanning its matches in rowid order (as below) and checking each
                # against that list, instead of one FTS lookup per listed text.
                cond_sql, cond_args = self._embed(select(p.c.id).where(*conds), "c")
                drows, drow_args = self._embed(self._driver_rows(drivers), "d")
                args = {**cond_args, **drow_args}
                member = (
                    f"SELECT catalog_search.id FROM ({drows}) AS d "
                    "CROSS JOIN catalog_products ON catalog_products.id = d.pid "
                    "CROSS JOIN catalog_search ON catalog_search.product_id = catalog_products.id "
                    f"WHERE {cond_sql.split(_WHERE, 1)[1]}"
                )
                where_sql = f" AND +catalog_fts.rowid IN ({member})"
                from_sql = "FROM catalog_fts "
            elif conds:
                # Rank only texts of products that pass the filters (selective filters cannot
                # starve the result). CROSS JOIN keeps the FTS table as the outer loop: SQLite's
                # planner would otherwise probe it once per candidate row.
                # Compiled inside a SELECT over catalog_products, so per-row probes correlate to it.
                whole_sql, args = self._embed(select(p.c.id).where(*conds), "c")
                where_sql = " AND (" + whole_sql.split(_WHERE, 1)[1] + ")"
            # bm25 costs per matching text, so a very unspecific query ranks a bounded set: texts
            # whose title (the product name) matches first, then the first RANK_CAP body matches.
            ranked_sql = (
                "SELECT sid, raw FROM (SELECT catalog_fts.rowid AS sid, -bm25(catalog_fts, 3.0, 1.0) AS raw "
                f"{from_sql}WHERE catalog_fts MATCH :match{where_sql} LIMIT :cap) ORDER BY raw DESC LIMIT :n"
            )
            rows: list[Any] = []
            seen: set[int] = set()
            # As text (what SQLAlchemy would render for the select over the ranked subquery):
            # building that select and its subquery's columns cost ~0.5 ms a call.
            q = text(
                "SELECT catalog_search.id, catalog_search.product_id, catalog_search.kind, "
                "catalog_search.title, f.raw, substr(catalog_search.body, 1, 4000) AS body, "
                "catalog_products.sku, catalog_products.name, catalog_products.family, "
                f"catalog_products.status FROM ({ranked_sql}) AS f "
                "JOIN catalog_search ON catalog_search.id = f.sid "
                "JOIN catalog_products ON catalog_products.id = catalog_search.product_id"
            )
            for match in (f"{{title}} : ({terms})", terms):
                got = (await conn.execute(q, {"match": match, "n": n, "cap": RANK_CAP, **args})).all()
                rows += [r for r in got if r.id not in seen]
                seen.update(r.id for r in got)
                if len({r.product_id for r in rows}) >= n // 4:
                    break
            rows.sort(key=lambda r: (-r.raw, r.id))
            return [
                _Hit(
                    r.product_id,
                    r.kind,
                    r.title,
                    r.raw,
                    r.body,
                    tokens,
                    r.sku,
                    r.name,
                    r.family,
                    r.status,
                )
                for r in rows
            ]
        tsq = func.to_tsquery("english", (" | " if any_token else " & ").join(tokens))
        rank = func.ts_rank_cd(text("catalog_search.tsv"), tsq)
        inner = (
            select(s.c.product_id, s.c.kind, s.c.title, s.c.body, rank.label("raw"))
            .join(p, p.c.id == s.c.product_id)
            .where(text("catalog_search.tsv @@ to_tsquery('english', :tq)"), where)
            .order_by(rank.desc(), s.c.id)
            .limit(n)
            .subquery("f")
        )
        headline = func.ts_headline(
            "english",
            func.substr(inner.c.body, 1, 3000),
            tsq,
            "StartSel=[, StopSel=], MaxWords=18, MinWords=6, ShortWord=2, MaxFragments=1",
        )
        q = (
            select(
                inner.c.product_id,
                inner.c.kind,
                inner.c.title,
                inner.c.raw,
                headline.label("snippet"),
                p.c.sku,
                p.c.name,
                p.c.family,
                p.c.status,
            )
            .join(p, p.c.id == inner.c.product_id)
            .order_by(inner.c.raw.desc(), p.c.sku)
        )
        tq = (" | " if any_token else " & ").join(tokens)
        return list((await conn.execute(q, {"tq": tq})).all())

    def _filter_sql(self, c: Constraint, pid: Any, *, correlated: bool = False) -> ColumnElement[bool]:
        """A SQL condition for one constraint (ratings are checked exactly afterwards in Python)."""
        p, a = t.products, _alias("fa")
        if c.attribute in PRODUCT_FIELDS:
            col = {
                "family": p.c.family,
                "status": p.c.status,
                "manufacturer": func.lower(p.c.manufacturer),
                "sku": func.lower(p.c.sku),
                "name": func.lower(p.c.name),
            }[c.attribute]
            value = (c.text or "").lower()
            if c.attribute == "status" and value == "current":
                value = "active"
            # "name" is a substring match; LIKE's wildcards in the value are plain characters.
            cond = col.contains(value, autoescape=True) if c.attribute == "name" else col == value
            return not_(cond) if c.op == "!=" else cond

        # "id IN (products having ...)": one indexed range scan on (name, value), evaluated once,
        # instead of a correlated probe per candidate row.
        # With ``correlated`` it is a probe per row on the (product_id, name) index instead: better
        # when rows come from another ordered scan and the attribute is common.
        conds, negate = _row_conds(c, a)
        if correlated and self.dialect == "sqlite":  # PostgreSQL plans id lists as hash semi-joins
            # "name || ''" keeps SQLite off the (name, value) indexes, which would scan every
            # product's value per probe; the product_id index finds this product's few rows.
            cond = exists().where(a.c.product_id == pid, a.c.name.concat("") == c.attribute, *conds)
        else:
            cond = pid.in_(select(a.c.product_id).where(a.c.name == c.attribute, *conds))
        return not_(cond) if negate else cond

    def _driver_part(self, c: Constraint, i: int = 0) -> Any:
        """SELECT pid: products having what ``c`` asks for, from one index range (ids may repeat)."""
        if c.attribute == "family":
            return select(t.products.c.id.label("pid")).where(t.products.c.family == (c.text or "").lower())
        a = _alias(f"d{i}")
        conds, _ = _row_conds(c, a)
        window = _window(c, a)
        if window is None or len(conds) < 2:  # one bound: a single range of one of the indexes
            return select(a.c.product_id.label("pid")).where(a.c.name == c.attribute, *conds)
        # Two bounds ("bore = 20 mm" within tolerance): single values in the window, one range of
        # the (name, value_lo) index; values outside it can only match as ranges or extra rows.
        b = _alias(f"e{i}")
        b_window = _window(c, b) or []
        both = union_all(
            select(a.c.product_id.label("pid")).where(a.c.name == c.attribute, *conds, *window),
            select(b.c.product_id.label("pid")).where(
                b.c.name == c.attribute, _irregular(b), *_row_conds(c, b)[0], not_(and_(*b_window))
            ),
        ).subquery(f"u{i}")
        return select(both.c.pid)

    def _driver_rows(self, drivers: Sequence[Constraint]) -> Any:
        """SELECT pid: the products having what every driver asks for (one driver: ids may repeat;
        no DISTINCT, which SQLite would plan as a scan of a whole index in product order)."""
        parts = [self._driver_part(c, i) for i, c in enumerate(drivers)]
        return parts[0] if len(parts) == 1 else intersect(*parts)

    async def _drivers(
        self, conn: AsyncConnection, cs: Sequence[Constraint], cap: int = DRIVER_MAX
    ) -> list[Constraint]:
        """The filters that list at most ``cap`` index rows (all that can, when forced): the
        lookup starts from the products they all have, and checks everything else on those only."""
        if self._force in ("scan", "walk"):
            return []
        cands = [c for c in cs if _drivable(c)]
        if self._force == "driver" or not cands:
            return cands
        # "Is there a row past the cap?": at most cap + 1 index entries read per filter.
        over = select(
            *(
                select(func.count())
                .select_from(self._driver_part(c, i).limit(1).offset(cap).subquery())
                .scalar_subquery()
                .label(f"o{i}")
                for i, c in enumerate(cands)
            )
        )
        got = (await conn.execute(over)).one()
        return [c for c, o in zip(cands, got, strict=True) if not o]

    def _embed(self, stmt: Any, tag: str) -> tuple[str, dict[str, Any]]:
        """``stmt`` as SQLite SQL to splice into a ``text()`` statement, with its values as bind
        parameters (named ``<tag>_<name>``), never inside the SQL: a filter value such as "-:x"
        or "(:n)" stays a value (issue 18: pasted into the text it became a parameter name)."""
        compiled = stmt.compile(dialect=_sqlite_named(), compile_kwargs={"render_postcompile": True})
        values = compiled.params
        # The SQL holds no value (every one is bound), so a ":name" in it is one of the parameters.
        sql = re.sub(
            r"(?<![:\w]):(\w+)", lambda m: f":{tag}_{m[1]}" if m[1] in values else m[0], str(compiled)
        )
        return sql, {f"{tag}_{k}": v for k, v in values.items()}

    async def _passes(
        self, conn: AsyncConnection, product_ids: list[int], filters: list[Constraint]
    ) -> list[bool]:
        """Exact check of rating filters (IP digit by digit, NEMA, ATEX) that SQL only approximates."""
        rated = [c for c in filters if c.value is not None and c.value.dimension in RATING_DIMENSIONS]
        if not rated or not product_ids:
            return [True] * len(product_ids)
        vals = await self._values(conn, sorted(set(product_ids)), [c.attribute for c in rated])
        out = []
        for pid in product_ids:
            good = True
            for c in rated:
                attr = vals[pid].get(c.attribute)
                qs = [v.quantity for v in attr.values] if attr else []
                if not any(q is not None and compare(q, c.op, c.value) for q in qs):  # type: ignore[arg-type]
                    good = False
            out.append(good)
        return out

    # --- substitutes -------------------------------------------------------------------

    async def substitutes(
        self,
        sku: str,
        constraints: Iterable[Any] = (),
        *,
        include_discontinued: bool = False,
        limit: int = 10,
    ) -> list[SubstituteCandidate]:
        """Ranked replacements for a SKU, each with a verdict per constraint and why it ranks there."""
        wanted = _as_constraints(constraints)
        limit = max(1, min(limit, 100))
        p = t.products
        async with self._conn() as conn:
            orig = await self._require(conn, sku)
            orig_attrs = (await self._values(conn, [orig.id]))[orig.id]
            rules = family_rules().get(orig.family, FamilyRules())
            user_attrs = {c.attribute for c in wanted}
            family = (
                next((c.text for c in wanted if c.attribute == "family" and c.op == "="), None) or orig.family
            )
            hard: list[Constraint] = []
            implicit: list[Constraint] = []
            for name in rules.match:
                c = _implicit(orig_attrs.get(name), "=")
                if c is not None:
                    hard.append(c)
            for names, op in ((rules.same, "="), (rules.at_least, ">=")):
                for name in names:
                    if name in user_attrs or name in rules.match:
                        continue
                    c = _implicit(orig_attrs.get(name), op)
                    if c is not None:
                        implicit.append(c)
            soft = [c for c in wanted if c.attribute not in ("family",)]
            chain = await self._chain(conn, orig)
            successors = list(chain)
            for (s,) in await _fetch(conn, _stmts().replaced_by, {"sku": orig.sku}):
                if s not in successors:
                    successors.append(s)
            statuses = [Lifecycle.ACTIVE.value] + (
                [Lifecycle.DISCONTINUED.value, Lifecycle.SUPERSEDED.value] if include_discontinued else []
            )
            # Each condition beside the constraint it encodes (a plan may start from the constraint).
            pf = [c for c in wanted if c.attribute in PRODUCT_FIELDS]
            base_pairs = [
                (Constraint(attribute="family", op="=", text=family), p.c.family == family),
                *((c, self._filter_sql(c, p.c.id, correlated=True)) for c in hard),
                *((c, self._filter_sql(c, p.c.id)) for c in pf),
            ]
            base = [base_pairs[0][1], p.c.id != orig.id, p.c.status.in_(statuses)]
            base += [cond for _, cond in base_pairs[1:]]
            # Asked minimums where more is a worse fit: the closest ratings rank first, and the
            # walk for candidates starts from the asked value (not the original's) on that attribute.
            minimums = _sized_minimums(soft, rules)
            order = self._closeness(rules, orig_attrs)
            target = order[1] if order is not None else None  # closeness is measured from here
            if order is not None and order[0] in minimums:
                asked = minimums[order[0]][1]
                target = asked
                if not asked <= order[1] <= asked * OVERSIZE_FACTOR:
                    order = (order[0], asked)  # parts near the original would not fit: walk from the ask
            pool = 40
            ids: list[int] = []
            numeric_soft = [c for c in soft if c.attribute not in PRODUCT_FIELDS]
            if numeric_soft:
                soft_pairs = [(c, self._filter_sql(c, p.c.id, correlated=True)) for c in numeric_soft]
                strict = base + [cond for _, cond in soft_pairs]
                ids = await self._pool(conn, strict, base_pairs + soft_pairs, order, pool)
            if len(ids) < pool:
                ids += [i for i in await self._pool(conn, base, base_pairs, order, pool) if i not in ids]
            # Candidates and successors in one round trip (the order of ``rows`` does not matter:
            # candidates are sorted by score, then SKU).
            got = await _fetch(conn, _stmts().products_by_ids_or_skus, {"ids": ids, "skus": successors})
            rows = {row.id: row for row in got}
            checks = hard + implicit + [c for c in soft if c.attribute not in PRODUCT_FIELDS]
            # Only what is compared, ranked on or explained (verdicts, closeness, confidence, why).
            wanted_names = {c.attribute for c in checks} | ({rules.closest} if rules.closest else set())
            vals = await self._values(conn, list(rows), sorted(wanted_names))
        # Per check, once (comparing constraint models per candidate cost milliseconds).
        is_hard = [c in hard for c in checks]
        is_implicit = [h or c in implicit for c, h in zip(checks, is_hard, strict=True)]
        scored = []
        fits: dict[int, dict[str, float]] = {}
        for pid, row in rows.items():
            is_succ = row.sku in successors
            if not include_discontinued and row.status != Lifecycle.ACTIVE.value:
                continue  # successors too: the chain is followed through them to the current part
            # Verdicts only (no models) for every candidate; models for the ones returned.
            kinds = [_verdict_kind(c, vals[pid].get(c.attribute)) for c in checks]
            if not is_succ and any(k != Verdict.MEETS for k, h in zip(kinds, is_hard, strict=True) if h):
                continue
            fits[pid] = _fit_ratios(minimums, vals[pid])
            if not is_succ and any(r > OVERSIZE_FACTOR for r in fits[pid].values()):
                continue  # far above what was asked: not a substitute (a named successor still is)
            scored.append((row, kinds, is_succ))
        key_attr = rules.closest

        def distance(row: Any) -> float:
            if not key_attr or target is None:
                return 0.0
            a = vals[row.id].get(key_attr)
            if a is None or a.primary.lo is None or target == 0:
                return 9.0
            return abs(math.log(max(a.primary.lo, 1e-12) / max(target, 1e-12)))

        def oversize(row: Any) -> float:
            """0 for an exact fit to the asked minimums, up to 0.45 each at OVERSIZE_FACTOR."""
            top = math.log(OVERSIZE_FACTOR)
            return sum(0.45 * min(math.log(r) / top, 1.0) for r in fits[row.id].values() if r > 1.0)

        def score(item: tuple[Any, list[Verdict], bool]) -> float:
            row, kinds, is_succ = item
            asked = [k for k, imp in zip(kinds, is_implicit, strict=True) if not imp]
            implied = [k for k, imp in zip(kinds, is_implicit, strict=True) if imp]
            # Weights make the order lexicographic: successor, lifecycle, what was asked,
            # then like-for-like checks, then fit (how far above an asked minimum) and closeness
            # to the asked value or the original.
            s = 20.0 * sum(_POINTS[k] for k in asked) + 1.0 * sum(_POINTS[k] for k in implied)
            s -= 0.5 * min(distance(row), 2.0) + oversize(row)
            if is_succ:
                s += 10000.0 - successors.index(row.sku)
            if row.status != Lifecycle.ACTIVE.value:
                s -= 5000.0
            return s

        scored.sort(key=lambda it: (-score(it), it[0].sku))
        out = []
        for rank, (row, kinds, is_succ) in enumerate(scored[:limit], start=1):
            verdicts = [
                _verdict(c, vals[row.id].get(c.attribute), implicit=imp)
                for c, imp in zip(checks, is_implicit, strict=True)
            ]
            out.append(
                SubstituteCandidate(
                    product=_summary(row),
                    rank=rank,
                    score=round(score((row, kinds, is_succ)), 3),
                    verdicts=verdicts,
                    confidence_note=_confidence(verdicts, vals[row.id]),
                    why=_why(
                        orig, row, verdicts, is_succ, successors, hard, key_attr, vals[row.id], orig_attrs
                    )[:-1]
                    + _fit_why(minimums, fits[row.id], vals[row.id])
                    + ".",
                    via_supersession=is_succ,
                    fit_ratio=round(max(fits[row.id].values()), 3) if fits[row.id] else None,
                )
            )
        return out

    def _closeness(self, rules: FamilyRules, orig_attrs: dict[str, _Attr]) -> tuple[str, float] | None:
        key = rules.closest
        if key and key in orig_attrs and orig_attrs[key].primary.lo is not None:
            return key, float(orig_attrs[key].primary.lo)
        return None

    async def _pool(
        self,
        conn: AsyncConnection,
        conds: list[ColumnElement[bool]],
        pairs: Sequence[tuple[Constraint, ColumnElement[bool]]],
        order: tuple[str, float] | None,
        n: int,
    ) -> list[int]:
        """Up to ~2n candidate ids: nearest to the original on the closeness attribute first.

        ``conds`` say what a candidate must be; ``pairs`` are constraints among them, each with
        its condition in ``conds`` (for the plan).
        Meaning (every plan gives exactly this): the first n rows of the closeness attribute at
        or above the original's value, in (value, product id) order, whose product passes
        ``conds``; then the first n below it, nearest first; then, if fewer than n products,
        passing products by SKU. Plans: a rare constraint (few index rows) lists its products
        first and only those are checked; otherwise two range scans on the (name, value) index
        outwards from the original's value, each stopping after n matches, jumping over value
        ranges that a constraint on the walked attribute rules out for every single-valued row.
        """
        p, a = t.products, t.attributes
        cs = [c for c, _ in pairs]
        drivers = await self._drivers(conn, cs)
        if drivers:
            # Listing the drivers' products already checks their conditions: not again per row.
            implied = [cond for c, cond in pairs if any(c is d for d in drivers)]
            rest_conds = [x for x in conds if not any(x is y for y in implied)]
            return await self._pool_driven(conn, rest_conds, drivers, order, n)
        ids: list[int] = []
        if order is not None:
            key, value = order
            windows: list[ColumnElement[bool]] = []
            if self._force != "scan":
                for c in cs:
                    if c.attribute == key and (w := _window(c, a)) is not None:
                        windows += w
            near = await self._walks(conn, conds, key, value, windows, n)
            ids = list(dict.fromkeys(near))
        if len(ids) < n:
            rest = await conn.execute(select(p.c.id).where(*conds).order_by(p.c.sku).limit(n))
            ids += [i for i in rest.scalars() if i not in ids]
        return ids

    async def _pool_driven(
        self,
        conn: AsyncConnection,
        conds: list[ColumnElement[bool]],
        drivers: Sequence[Constraint],
        order: tuple[str, float] | None,
        n: int,
    ) -> list[int]:
        """_pool from the few products the drivers list: those passing, by SKU; their values of
        the closeness attribute; the two walks done on that short list (same order as SQL's)."""
        p, a = t.products, t.attributes
        listed = self._driver_rows(drivers).subquery("listed")
        # "|| ''" on SQLite: sorting the short list beats walking the family's (family, sku) index,
        # and SQLite would otherwise walk the whole (name, value) range of the attribute.
        sqlite = self.dialect == "sqlite"
        by_sku = p.c.sku.concat("") if sqlite else p.c.sku
        key = order[0] if order is not None else ""
        name = a.c.name.concat("") if sqlite else a.c.name
        got = (
            await conn.execute(
                select(p.c.id, a.c.value_lo)
                .outerjoin(a, and_(a.c.product_id == p.c.id, name == key, a.c.value_lo.is_not(None)))
                .where(p.c.id.in_(select(listed.c.pid)), *conds)
                .order_by(by_sku)
            )
        ).all()
        passing = list(dict.fromkeys(pid for pid, _ in got))  # by SKU
        ids: list[int] = []
        if order is not None:
            value = order[1]
            up = sorted((lo, pid) for pid, lo in got if lo is not None and lo >= value)[:n]
            down = sorted((-lo, pid) for pid, lo in got if lo is not None and lo < value)[:n]
            ids = list(dict.fromkeys([pid for _, pid in up] + [pid for _, pid in down]))
        if len(ids) < n:
            ids += [i for i in passing[:n] if i not in ids]
        return ids

    async def _walks(
        self,
        conn: AsyncConnection,
        conds: list[ColumnElement[bool]],
        key: str,
        value: float,
        windows: list[ColumnElement[bool]],
        n: int,
    ) -> list[int]:
        """First n rows of ``key`` from ``value`` upwards whose product passes, then the first n
        downwards (nearest first): each scan bounded, all in one round trip."""
        p, a = t.products, t.attributes
        base = (
            select(a.c.product_id, a.c.value_lo)
            .join(p, p.c.id == a.c.product_id)
            .where(a.c.name == key, *conds)
        )
        up = base.where(a.c.value_lo >= value).order_by(a.c.value_lo, a.c.product_id)
        down = base.where(a.c.value_lo < value).order_by(a.c.value_lo.desc(), a.c.product_id)
        if windows:
            # Outside the windows only a range value or one of several rows of a product can
            # pass (see _window); those come from the partial index on exactly such rows.
            odd = (_irregular(a), not_(and_(*windows)))
            scans = [up.where(*windows), up.where(*odd), down.where(*windows), down.where(*odd)]
        else:
            scans = [up, down]
        parts = []
        for i, scan in enumerate(scans):
            sq = scan.limit(n).subquery(f"w{i}")
            is_up = literal_column("1" if i < len(scans) // 2 else "0")
            # Columns named as text: ``sq.c`` would build the subquery's column proxies (~0.3 ms each).
            cols = (literal_column(f"w{i}.product_id"), literal_column(f"w{i}.value_lo"))
            parts.append(select(is_up.label("up"), *cols).select_from(sq))
        rows = (await conn.execute(union_all(*parts))).all()
        ups = sorted((lo, pid) for is_up, pid, lo in rows if is_up)[:n]
        downs = sorted((-lo, pid) for is_up, pid, lo in rows if not is_up)[:n]
        return [pid for _, pid in ups] + [pid for _, pid in downs]

    # --- accessories -------------------------------------------------------------------

    async def accessories(self, sku: str) -> list[AccessoryItem]:
        """What goes with a SKU: its accessories, compatible parts, then family-rule complements."""
        p, r = t.products, t.relations
        async with self._conn() as conn:
            orig = await self._require(conn, sku)
            items: list[AccessoryItem] = []
            seen = {orig.sku}
            acc = (
                await conn.execute(
                    select(p, r.c.note)
                    .join(r, r.c.product_id == p.c.id)
                    .where(r.c.kind == RelationKind.ACCESSORY_OF.value, r.c.target_sku == orig.sku)
                    .order_by(p.c.sku)
                )
            ).all()
            for row in acc:
                if row.sku not in seen:
                    seen.add(row.sku)
                    items.append(
                        AccessoryItem(
                            product=_summary(row),
                            relation="accessory_of",
                            note=row.note or f"accessory of {orig.sku}",
                        )
                    )
            compat_in = (
                await conn.execute(
                    select(p, r.c.note)
                    .join(r, r.c.product_id == p.c.id)
                    .where(r.c.kind == RelationKind.COMPATIBLE_WITH.value, r.c.target_sku == orig.sku)
                    .order_by(p.c.sku)
                )
            ).all()
            out_targets = (
                await conn.execute(
                    select(r.c.target_sku, r.c.note, r.c.kind).where(
                        r.c.product_id == orig.id,
                        r.c.kind.in_([RelationKind.COMPATIBLE_WITH.value, RelationKind.ACCESSORY_OF.value]),
                    )
                )
            ).all()
            compat_out = []
            if out_targets:
                notes = {s: (n, k) for s, n, k in out_targets}
                for row in (
                    await conn.execute(select(p).where(p.c.sku.in_(list(notes))).order_by(p.c.sku))
                ).all():
                    n, k = notes[row.sku]
                    compat_out.append((row, n or ("used with" if k == "accessory_of" else "compatible")))
            for row in compat_in:
                if row.sku not in seen:
                    seen.add(row.sku)
                    items.append(
                        AccessoryItem(
                            product=_summary(row),
                            relation="compatible_with",
                            note=row.note or f"compatible with {orig.sku}",
                        )
                    )
            for row, note in compat_out:
                if row.sku not in seen:
                    seen.add(row.sku)
                    items.append(AccessoryItem(product=_summary(row), relation="compatible_with", note=note))
            rules = family_rules().get(orig.family, FamilyRules())
            if rules.complements:
                orig_attrs = (await self._values(conn, [orig.id]))[orig.id]
                for fam, match in rules.complements:
                    conds: list[ColumnElement[bool]] = [
                        p.c.family == fam,
                        p.c.status == Lifecycle.ACTIVE.value,
                    ]
                    said = []
                    usable = True
                    for name in match:
                        c = _implicit(orig_attrs.get(name), "=")
                        if c is None:
                            usable = False
                            break
                        conds.append(self._filter_sql(c, p.c.id))
                        said.append(f"{name.replace('_', ' ')} {orig_attrs[name].primary.value_text}")
                    if not usable:
                        continue
                    rows = (await conn.execute(select(p).where(*conds).order_by(p.c.sku).limit(5))).all()
                    for row in rows:
                        if row.sku not in seen:
                            seen.add(row.sku)
                            note = (
                                f"{fam.replace('_', ' ')} with the same {', '.join(said)}"
                                if said
                                else f"{fam.replace('_', ' ')} used with {orig.family.replace('_', ' ')}s"
                            )
                            items.append(
                                AccessoryItem(product=_summary(row), relation="family_rule", note=note)
                            )
            return items


# --- helpers ---------------------------------------------------------------------------


def _row_conds(c: Constraint, a: Any) -> tuple[list[ColumnElement[bool]], bool]:
    """What one attribute row (of ``a``, an alias of catalog_attributes) must satisfy for ``c``,
    and whether the product condition is "no row does" (``!=``) rather than "some row does"."""
    if c.op == "exists":
        return [], False
    if c.value is None:
        return [a.c.text_key == (c.text or "").lower()], c.op == "!="
    q = c.value
    if q.dimension in ("nema", "atex"):
        return [], False  # partial orders: the exact check is done in Python
    if q.dimension == "ip":
        return ([a.c.value_hi >= q.lo] if c.op in (">=", ">") else []), False
    eps = 1e-9 * max(1.0, abs(q.lo), abs(q.hi))
    tol = 0.5 if q.dimension == "temperature" else 0.01 * max(abs(q.lo), abs(q.hi)) + 1e-12
    if c.op == ">=":
        return [a.c.value_hi >= q.lo - eps], False
    if c.op == ">":
        return [a.c.value_hi > q.lo + eps], False
    if c.op == "<=":
        return [a.c.value_lo <= q.hi + eps], False
    if c.op == "<":
        return [a.c.value_lo < q.hi - eps], False
    return [a.c.value_lo <= q.hi + tol, a.c.value_hi >= q.lo - tol], c.op == "!="


@cache
def _alias(name: str) -> Any:
    """An alias of catalog_attributes, made once: building one's columns costs ~1 ms a call."""
    return t.attributes.alias(name)


def _irregular(a: Any) -> ColumnElement[bool]:
    """tables.IRREGULAR on ``a``, spelled as the partial index states it (so SQLite can use it)."""
    return or_(a.c.value_hi != a.c.value_lo, a.c.name_rows > literal_column("1"))


def _drivable(c: Constraint) -> bool:
    """A constraint whose products can be listed from an index ("some row has ..." or a family)."""
    if c.attribute in PRODUCT_FIELDS:
        return c.attribute == "family" and c.op == "="
    # _row_conds' "no row does" (negated) cases, without building the conditions
    rating = c.value is not None and c.value.dimension in RATING_DIMENSIONS
    return not (c.op == "!=" and not rating)


def _window(c: Constraint, a: Any) -> list[ColumnElement[bool]] | None:
    """Conditions on ``value_lo`` alone that every row meeting ``c`` satisfies, unless the row is a
    range (value_hi <> value_lo) or one of several rows of its product for the attribute
    (``tables.IRREGULAR``): the row conditions with value_hi read as value_lo. None: no such window."""
    if c.attribute in PRODUCT_FIELDS:
        return None
    conds, negate = _row_conds(c, a)
    if negate or not conds or c.value is None:
        return None
    out = []
    for cond in conds:
        left = cond.left  # type: ignore[attr-defined]
        col = a.c.value_lo if left is a.c.value_hi else left
        out.append(cond.operator(col, cond.right))  # type: ignore[attr-defined]
    return out


def _summary(row: Any) -> ProductSummary:
    return ProductSummary(
        sku=row.sku,
        name=row.name,
        family=row.family,
        manufacturer=row.manufacturer or "",
        status=Lifecycle(row.status),
        superseded_by=row.superseded_by,
    )


_ORDER = list(ATTRIBUTES)


def _attr_order(name: str) -> tuple[int, str]:
    return (_ORDER.index(name) if name in _ORDER else len(_ORDER), name)


def _excerpt(head: str | None) -> str:
    if not head:
        return ""
    lines = [ln.strip() for ln in head.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    out = " ".join(lines)
    return out[:200] + ("…" if len(out) > 200 else "")


def _snippet(body: str, tokens: list[str], width: int = 110) -> str:
    """A short excerpt around the first query word, the words marked [like this]."""
    text_ = re.sub(r"\s+", " ", body or "").strip()
    if not text_:
        return ""
    words = re.compile(r"\b(" + "|".join(re.escape(tok) for tok in tokens) + r")\w*", re.IGNORECASE)
    m = words.search(text_)
    start = 0 if m is None else max(0, m.start() - width // 3)
    if start:
        start = text_.find(" ", start) + 1 or start
    piece = text_[start : start + width]
    piece = words.sub(lambda mm: f"[{mm.group(0)}]", piece)
    return ("…" if start else "") + piece + ("…" if start + width < len(text_) else "")


def _clean_snippet(s: str | None) -> str:
    return re.sub(r"\s+", " ", s or "").strip()


def _implicit(attr: _Attr | None, op: str) -> Constraint | None:
    """A constraint saying "as the original": same value, or at least its value."""
    if attr is None:
        return None
    v = attr.primary
    q = v.quantity
    label = f"{v.name}{op}{v.value_text}"
    if q is not None:
        return Constraint(attribute=v.name, op=op, value=q, original=label)
    if op == "=":
        return Constraint(attribute=v.name, op="=", text=(v.text_key or v.value_text).lower(), original=label)
    return None


def _sized_minimums(asked: Iterable[Constraint], rules: FamilyRules) -> dict[str, tuple[Constraint, float]]:
    """Asked minimums ("torque >= 180 N·m") on the family's sized_by attributes: name ->
    (constraint, the asked value in SI). The highest of several on one attribute counts."""
    out: dict[str, tuple[Constraint, float]] = {}
    for c in asked:
        q = c.value
        if c.attribute not in rules.sized_by or c.op not in (">=", ">") or q is None:
            continue
        if q.dimension in RATING_DIMENSIONS or q.dimension == "temperature" or q.lo <= 0:
            continue
        if c.attribute not in out or q.lo > out[c.attribute][1]:
            out[c.attribute] = (c, q.lo)
    return out


def _fit_ratios(minimums: dict[str, tuple[Constraint, float]], attrs: dict[str, _Attr]) -> dict[str, float]:
    """How many times each asked minimum a candidate's stated value is (1.0: an exact fit)."""
    out = {}
    for name, (_c, wanted) in minimums.items():
        attr = attrs.get(name)
        if attr is None or attr.primary.lo is None:
            continue
        v = attr.primary
        have = v.hi if v.hi is not None else v.lo
        if have is not None and have > 0:
            out[name] = have / wanted
    return out


def _fit_why(
    minimums: dict[str, tuple[Constraint, float]], ratios: dict[str, float], attrs: dict[str, _Attr]
) -> str:
    """ "; torque 220 N·m for the 180 N·m asked (1.2×)", "; oversized: ..." past OVERSIZE_FACTOR."""
    bits = []
    for name, r in ratios.items():
        c, _wanted = minimums[name]
        shown = c.value.display() if c.value is not None else ""
        said = f"{name.replace('_', ' ')} {attrs[name].primary.value_text} for the {shown} asked ({r:.1f}×)"
        bits.append(f"oversized: {said}" if r > OVERSIZE_FACTOR else said)
    return "".join(f"; {b}" for b in bits)


def _verdict_kind(c: Constraint, attr: _Attr | None) -> Verdict:
    """Whether the product's most authoritative value meets ``c`` (the verdict of _verdict)."""
    if attr is None:
        return Verdict.UNKNOWN
    if c.op == "exists":
        return Verdict.MEETS
    v = attr.primary
    if c.value is None:
        have = (v.text_key or v.value_text).lower()
        ok = have == (c.text or "") if c.op != "!=" else have != (c.text or "")
        return Verdict.MEETS if ok else Verdict.FAILS
    # compare(v.quantity, ...) without building the Quantity (see _Value.quantity)
    if v.dimension is None or v.lo is None:
        return Verdict.UNKNOWN
    hi = v.lo if v.hi is None or v.hi == v.lo else v.hi
    rating = v.value_text if v.dimension in RATING_DIMENSIONS else None
    result = compare_values(v.dimension, float(v.lo), float(hi), rating, c.op, c.value)
    return Verdict.UNKNOWN if result is None else (Verdict.MEETS if result else Verdict.FAILS)


def _verdict(c: Constraint, attr: _Attr | None, *, implicit: bool) -> ConstraintVerdict:
    wanted = c.value.display() if c.value is not None else (c.text or "")
    if c.op == "exists":
        wanted = "present"
    base = dict(constraint=c.describe(), attribute=c.attribute, wanted=wanted, implicit=implicit)
    verdict = _verdict_kind(c, attr)
    if attr is None:
        return ConstraintVerdict(**base, verdict=verdict, actual=None, source=None)
    v = attr.primary
    src = f"{v.title} ({v.kind})"
    if attr.conflict:
        src += "; sources disagree"
    return ConstraintVerdict(**base, verdict=verdict, actual=v.value_text, source=src)


_POINTS = {Verdict.MEETS: 1.0, Verdict.UNKNOWN: 0.35, Verdict.FAILS: -1.0}


def _confidence(verdicts: list[ConstraintVerdict], attrs: dict[str, _Attr]) -> str:
    """One line on how far to trust the match."""
    asked = [v for v in verdicts if not v.implicit] or verdicts
    if not asked:
        return "No constraints to check; same family only."
    meets = sum(v.verdict == Verdict.MEETS for v in asked)
    unknown = [v.attribute for v in asked if v.verdict == Verdict.UNKNOWN]
    fails = [v.attribute for v in asked if v.verdict == Verdict.FAILS]
    marketing = [v.attribute for v in asked if v.attribute in attrs and attrs[v.attribute].marketing_only]
    disputed = [v.attribute for v in asked if v.attribute in attrs and attrs[v.attribute].conflict]
    parts = [f"Meets {meets} of {len(asked)} constraints"]
    if fails:
        parts.append(f"fails {', '.join(fails)}")
    if unknown:
        parts.append(f"no data for {', '.join(unknown)}")
    if marketing:
        parts.append(f"{', '.join(marketing)} only from marketing copy")
    if disputed:
        parts.append(f"sources disagree on {', '.join(disputed)}")
    level = (
        "high"
        if meets == len(asked) and not marketing and not disputed
        else ("low" if fails or len(unknown) * 2 >= len(asked) else "medium")
    )
    return f"{level.capitalize()} confidence: " + "; ".join(parts) + "."


def _why(
    orig: Any,
    row: Any,
    verdicts: list[ConstraintVerdict],
    is_succ: bool,
    successors: list[str],
    hard: list[Constraint],
    key_attr: str | None,
    attrs: dict[str, _Attr],
    orig_attrs: dict[str, _Attr],
) -> str:
    bits = []
    if is_succ:
        pos = successors.index(row.sku)
        bits.append(
            f"named successor of {orig.sku}"
            if pos == 0
            else f"successor in the supersession chain {' -> '.join([orig.sku, *successors[: pos + 1]])}"
        )
        if row.status != Lifecycle.ACTIVE.value:
            bits.append(f"itself {row.status}")
    if hard:
        bits.append("same " + ", ".join(c.attribute.replace("_", " ") for c in hard) + f" as {orig.sku}")
    asked = [v for v in verdicts if not v.implicit]
    if asked:
        bits.append(f"meets {sum(v.verdict == Verdict.MEETS for v in asked)}/{len(asked)} requested")
    implied = [v for v in verdicts if v.implicit and all(v.attribute != c.attribute for c in hard)]
    if implied:
        bits.append(f"{sum(v.verdict == Verdict.MEETS for v in implied)}/{len(implied)} like-for-like checks")
    if key_attr and key_attr in attrs and key_attr in orig_attrs:
        bits.append(
            f"{key_attr.replace('_', ' ')} {attrs[key_attr].primary.value_text} vs "
            f"{orig_attrs[key_attr].primary.value_text}"
        )
    if row.status != Lifecycle.ACTIVE.value and not is_succ:
        bits.append(f"{row.status} (asked to include)")
    return "; ".join(bits) + "."


def _name_hit(row: Any, *, raw_score: float, matched_by: str) -> SearchHit:
    """A hit found by SKU or filters rather than by full-text rank: full score, name as snippet."""
    return SearchHit(
        sku=row.sku,
        name=row.name,
        family=row.family,
        status=Lifecycle(row.status),
        score=1.0,
        raw_score=raw_score,
        snippet=row.name,
        matched_by=matched_by,
    )


def sku_prefix_key(words: str) -> str | None:
    """The sku_key prefix a query is looked up by, when it is one SKU-like word: no space, a
    digit in it, two or more letters or digits ("GX-2" -> "gx2"; "gearbox", "6" -> None)."""
    token = words.strip()
    if not token or len(token) > MAX_SKU_CHARS or any(ch.isspace() for ch in token):
        return None
    if not any(ch.isdigit() for ch in token):
        return None
    key = sku_key(token)
    return key if len(key) >= 2 else None


def _key_successor(key: str) -> str | None:
    """The least string above every string starting with ``key`` (keys are [0-9a-z]; digits
    sort before letters in byte order and in PostgreSQL's collations alike); None: no bound."""
    stem = key.rstrip("z")
    if not stem:
        return None
    last = stem[-1]
    return stem[:-1] + ("a" if last == "9" else chr(ord(last) + 1))


def make_engine(database_url: str) -> AsyncEngine:
    """An async engine for a plain database URL (the storage layer's engine settings)."""
    from warmline.storage.engine import create_engine

    return create_engine(database_url)


__all__ = [
    "CatalogService",
    "ConstraintError",
    "ProductNotFound",
    "family_rules",
    "make_engine",
    "parse_search_query",
]
