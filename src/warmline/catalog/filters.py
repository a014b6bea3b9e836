"""Constraints as SQL, and the choice of where a lookup starts (the "plan").

``FilterSQL._filter_sql`` turns one constraint into a condition on products (an indexed id
list, or a per-row probe); ``_drivers`` finds the filters rare enough to start from (few
index rows), and ``_embed`` splices a statement into a hand-written SQLite ``text()`` with its
values as bind parameters, never as text. ``_passes`` checks ratings exactly in Python.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from typing import Any

from sqlalchemy import and_, exists, func, intersect, literal_column, not_, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from warmline.catalog import tables as t
from warmline.catalog.store import CatalogStore
from warmline.catalog.units import PRODUCT_FIELDS, RATING_DIMENSIONS, Constraint, compare

# A filter matching at most this many attribute rows (or family products) drives the lookup:
# its products are listed from the index first and everything else is checked on them only.
DRIVER_MAX = 2000


_WHERE = "\nWHERE "  # where a compiled select's own WHERE clause starts (subqueries come after it)


@cache
def _sqlite_named() -> Any:
    """The SQLite dialect rendering parameters as ``:name`` (as ``text()`` reads them)."""
    from sqlalchemy.dialects import sqlite

    return sqlite.dialect(paramstyle="named")


class FilterSQL(CatalogStore):
    """Filters as SQL and the plan choice, for the lookups that filter (search, substitutes...)."""

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
