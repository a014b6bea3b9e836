"""Catalog search: an exact SKU, then SKUs by prefix, then ranked full text, all under filters.

``parse_search_query`` splits "washdown family:gearbox torque>=180Nm" into words and filters.
Text is ranked by SQLite FTS5 (bm25) or PostgreSQL full text (ts_rank_cd); filters narrow
the ranked set in SQL and ratings are checked exactly afterwards.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from warmline.catalog import tables as t
from warmline.catalog.filters import _WHERE, FilterSQL
from warmline.catalog.models import DocKind, Lifecycle, SearchHit
from warmline.catalog.records import sku_key
from warmline.catalog.store import MAX_SKU_CHARS
from warmline.catalog.units import Constraint, ConstraintError, is_plain_text, parse_constraint

_SQLITE_SQUASH = 5.0  # score = raw / (raw + k): bm25 around k scores 0.5
RANK_CAP = 600  # most texts bm25 ranks for one query on SQLite (see CatalogService._fts)
_PG_SQUASH = 0.1


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


class SearchLookups(FilterSQL):
    """``search``: products matching free text and attribute filters, best first."""

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
                    rows = list((await conn.execute(text(listed_sql), args)).all())
                else:
                    rows = list((await conn.execute(listed.order_by(p.c.sku).limit(limit * 4))).all())
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
            q: Any = text(
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
