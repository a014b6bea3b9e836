"""Substitutes: ranked replacements for a SKU, with a verdict per constraint and why each ranks there.

Candidates come from the original's family (family rules in resources/catalog/families.toml:
attributes to match, to keep the same, to keep at least as high), nearest to the original
(or to an asked minimum) on the family's closeness attribute first. Ranking: a named
successor, then what was asked, then like-for-like checks, then fit and closeness; a part
far above an asked minimum (OVERSIZE_FACTOR) is not proposed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import and_, literal_column, not_, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from warmline.catalog import tables as t
from warmline.catalog.filters import FilterSQL, _irregular, _window
from warmline.catalog.models import ConstraintVerdict, Lifecycle, SubstituteCandidate, Verdict
from warmline.catalog.store import FamilyRules, _Attr, _fetch, _implicit, _stmts, _summary, family_rules
from warmline.catalog.units import (
    PRODUCT_FIELDS,
    RATING_DIMENSIONS,
    Constraint,
    ConstraintError,
    compare_values,
    constraint_from_packet,
    parse_constraint,
)

# A substitute rated over this many times an asked minimum on a sized_by attribute (families.toml)
# is not proposed: a 750 N·m gearbox is no answer to a 180 N·m need (issue 17).
OVERSIZE_FACTOR = 2.5


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


class SubstituteLookups(FilterSQL):
    """``substitutes`` and the candidate pool behind it (walks outwards on an index)."""

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
                    # parts near the original would not fit: walk from the ask (from just under it:
                    # a stored value equal to it up to conversion dust walks up, as an equal one)
                    order = (order[0], asked - 1e-9 * abs(asked))
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
            # rounded: values equal up to conversion dust (an ulp) must rank equal, by SKU
            return round(abs(math.log(max(a.primary.lo, 1e-12) / max(target, 1e-12))), 9)

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
        lo = orig_attrs[key].primary.lo if key and key in orig_attrs else None
        return (key, float(lo)) if key and lo is not None else None

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
            is_up: Any = literal_column("1" if i < len(scans) // 2 else "0")
            # Columns named as text: ``sq.c`` would build the subquery's column proxies (~0.3 ms each).
            cols: tuple[Any, Any] = (literal_column(f"w{i}.product_id"), literal_column(f"w{i}.value_lo"))
            parts.append(select(is_up.label("up"), *cols).select_from(sq))
        rows = (await conn.execute(union_all(*parts))).all()
        ups = sorted((lo, pid) for is_up, pid, lo in rows if is_up)[:n]
        downs = sorted((-lo, pid) for is_up, pid, lo in rows if not is_up)[:n]
        return [pid for _, pid in ups] + [pid for _, pid in downs]


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
            out[name] = round(have / wanted, 9)  # conversion dust (an ulp) is no difference
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
