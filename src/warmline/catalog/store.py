"""The catalog's database side shared by every lookup.

``CatalogStore`` holds the engine and what all lookups read: a product by SKU (case and
punctuation ignored), the closest SKUs for "did you mean", attribute values per product
(most authoritative source first) and supersession chains. Hot statements are built once
(``_stmts``) and, on SQLite, run straight on the aiosqlite connection (``_fetch``).
"""

from __future__ import annotations

import collections
import contextlib
import difflib
import functools
import math
import tomllib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from sqlalchemy import Integer, String, bindparam, func, literal, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker

from warmline.catalog import tables as t
from warmline.catalog.models import AttributeSource, DocKind, Lifecycle, ProductSummary, RelationKind
from warmline.catalog.records import sku_key
from warmline.catalog.units import MAX_MAGNITUDE, RATING_DIMENSIONS, Constraint, Quantity, is_plain_text
from warmline.resources import resource_path

# Which statement of a value wins when sources disagree (lower is more authoritative).
SOURCE_RANK = {"table": 0, "datasheet": 1, "certificate": 2, "manual": 3, "other": 4, "marketing": 5}
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


def _same_key(v: _Value) -> Any:
    """Values that count as "the same" (1 % apart, or the same text) share a key."""
    if v.lo is not None and v.dimension not in RATING_DIMENSIONS:

        def r(x: float | None) -> float | None:
            if x is None:
                return None
            return 0.0 if x == 0 else round(math.log10(abs(x)) * 230) * (1 if x > 0 else -1)  # ~1 % bins

        return (r(v.lo), r(v.hi))
    return (v.text_key or v.value_text).strip().lower()


class CatalogStore:
    """The engine, and the reads every lookup shares (see ``CatalogService`` for the lookups)."""

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


def _summary(row: Any) -> ProductSummary:
    return ProductSummary(
        sku=row.sku,
        name=row.name,
        family=row.family,
        manufacturer=row.manufacturer or "",
        status=Lifecycle(row.status),
        superseded_by=row.superseded_by,
    )


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


def make_engine(database_url: str) -> AsyncEngine:
    """An async engine for a plain database URL (the storage layer's engine settings)."""
    from warmline.storage.engine import create_engine

    return create_engine(database_url)
