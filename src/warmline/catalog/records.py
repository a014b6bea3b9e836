"""What ingest reads products and documents into, and how one value is read and checked.

``make_attribute`` turns a cell ("0.2 kN·m", "IP66", "yes") into a normalised attribute value
or says why it cannot (unknown unit, not finite, out of range, not text); ``sku_key`` is the
form SKUs are matched in; the limits here are the catalog tables' column widths.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from warmline.catalog.models import Lifecycle
from warmline.catalog.units import (
    ATTRIBUTES,
    DIMENSIONS,
    MAX_DIGITS,
    MAX_MAGNITUDE,
    QuantityError,
    attribute_key,
    is_plain_text,
    parse_quantity,
    unit_for,
)

TABLE_SUFFIXES = {".csv", ".json", ".jsonl", ".ndjson"}
DOC_SUFFIXES = {".md", ".markdown", ".txt", ".text", ".pdf"}
SKU_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._/\-+#()]*$")
CHUNK = 500
# Column widths of the catalog tables (tables.py): longer text is refused as a bad row, on
# every database (PostgreSQL would otherwise stop the run with its own error; SQLite keeps it).
MAX_SKU = 100
MAX_NAME = 300
MAX_MANUFACTURER = 200
MAX_ORIGIN = 300  # a file's path inside the ingested folder
_LONG_NUMBER = re.compile(rf"\d{{{MAX_DIGITS + 1}}}")
NOT_TEXT = "contains a NUL character or a lone surrogate (not text)"
BOOL_TEXT = {"yes": "yes", "true": "yes", "y": "yes", "no": "no", "false": "no", "n": "no"}


@dataclass
class AttrRecord:
    name: str
    value_text: str
    unit: str = ""
    dimension: str | None = None
    lo: float | None = None
    hi: float | None = None
    text_key: str | None = None


@dataclass
class DocRecord:
    kind: str
    title: str
    ref: str
    body: str
    attributes: list[AttrRecord] = field(default_factory=list)


@dataclass
class ProductRecord:
    sku: str
    origin: str
    where: str  # "file:line" of the record, for errors found later
    name: str = ""
    family: str = ""
    manufacturer: str = ""
    status: str = Lifecycle.ACTIVE.value
    superseded_by: str | None = None
    attributes: list[AttrRecord] = field(default_factory=list)
    documents: list[DocRecord] = field(default_factory=list)
    relations: list[tuple[str, str, str, str]] = field(default_factory=list)  # kind, sku, note, where
    documents_only: bool = False  # a document file for a product defined elsewhere


def known_families() -> list[str]:
    """Family ids from the skills taxonomy (resources/skills.toml [families])."""
    from warmline.domain.skills import default_taxonomy

    return list(default_taxonomy().families)


def make_attribute(name: str, raw: Any, unit: str = "") -> AttrRecord:
    """One attribute value, normalised; raises ValueError with the reason if it cannot be read."""
    key = attribute_key(name) or _slug(name)
    if not key:
        raise ValueError(f"{name!r} is not an attribute name")
    spec = ATTRIBUTES.get(key)
    if isinstance(raw, bool):
        raw = "yes" if raw else "no"
    if isinstance(raw, dict):
        unit = str(raw.get("unit", unit) or "")
        raw = raw.get("value")
        if raw is None:
            raise ValueError("has no 'value'")
        if isinstance(raw, bool):
            raw = "yes" if raw else "no"
    if isinstance(raw, float) and not math.isfinite(raw):
        raise ValueError(f"{raw!r} is not a finite number")  # JSON NaN, Infinity, 1e999
    text = str(raw).strip()
    if not text:
        raise ValueError("is empty")
    if not is_plain_text(text) or not is_plain_text(unit):
        raise ValueError(NOT_TEXT)
    if len(text) > 500:
        raise ValueError("is longer than 500 characters")
    dimension = spec.dimension if spec else None
    if (dimension or unit) and _LONG_NUMBER.search(text):
        raise ValueError(f"{_quoted(text)} is out of range (a number with more than {MAX_DIGITS} digits)")
    if unit:
        try:
            u = unit_for(unit)
        except KeyError:
            raise ValueError(f"unknown unit {unit!r}") from None
        if dimension and dimension not in (u.dimension, "number"):
            raise ValueError(f"unit {unit!r} is {u.dimension}, but {key} is {dimension}")
        dimension = u.dimension
        bare = re.fullmatch(r"[-+−]?\d+(?:[.,]\d+)?(?:\s*(?:-|–|\.\.\.?|…|/)\s*[-+−]?\d+(?:[.,]\d+)?)?", text)
        if bare:
            text = f"{text} {unit}"
        else:
            # the cell carries its own unit ("0.2 kN·m" in a column of N·m): fine if it is the same kind
            try:
                own = parse_quantity(text)
            except QuantityError:
                raise ValueError(f"{_quoted(text)} is not a number in {unit}") from None
            if own.dimension != u.dimension:
                raise ValueError(f"{_quoted(text)} is {own.dimension}, not {u.dimension} ({unit})")
    if dimension is None:
        # Free text, unless it plainly carries a unit ("12 mm" in an attribute we do not know).
        try:
            q = parse_quantity(text)
        except QuantityError:
            low = text.lower()
            return AttrRecord(key, text, text_key=BOOL_TEXT.get(low, low)[:200])
        dimension = q.dimension
    else:
        try:
            q = parse_quantity(text, dimension=dimension)
        except QuantityError as exc:
            want = (spec.unit if spec and spec.unit else DIMENSIONS.get(dimension, ("", ""))[1]) or dimension
            raise ValueError(f"{_quoted(text)} is not read as {key} ({want}): {exc.reason}") from None
    for v in (q.lo, q.hi):
        if not math.isfinite(v) or abs(v) > MAX_MAGNITUDE:
            raise ValueError(f"{_quoted(text)} is out of range (at most {MAX_MAGNITUDE:g} in SI units)")
    display_unit = (spec.unit if spec and spec.dimension == q.dimension else "") or (unit or q.unit)
    if q.rating is not None:
        shown, display_unit = q.rating, ""
    elif q.dimension == "number":
        shown = q.display()
    else:
        shown = q.model_copy(update={"unit": display_unit}).display()
    return AttrRecord(
        key,
        shown,
        unit=display_unit,
        dimension=q.dimension,
        lo=q.lo,
        hi=q.hi,
        text_key=(q.rating or "").lower()[:200] or None,
    )


def _quoted(text: str, width: int = 60) -> str:
    """A cell as quoted in an error: repr, cut to ``width`` characters."""
    return repr(text) if len(text) <= width else repr(text[:width]) + f"… ({len(text)} characters)"


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")[:60]


def sku_key(sku: str) -> str:
    """The form SKUs are matched in: case and punctuation do not matter ("gx220" finds "GX-220")."""
    return re.sub(r"[^a-z0-9]", "", sku.lower())


# Lines in documents that state an attribute: "- Rated torque: 220 N·m", "| IP rating | IP66 |".
_DOC_LINE_RE = re.compile(
    r"^\s*(?:[-*•]\s+)?\|?\s*\**(?P<label>[A-Za-z][A-Za-z0-9 ./()\-]{0,40}?)\**\s*(?::|\|)\s*\**"
    r"(?P<value>[^|\n]+?)\**\s*\|?\s*$"
)


def extract_document_attributes(body: str) -> list[AttrRecord]:
    """Attributes a document states in "label: value" lines or two-column tables."""
    out: list[AttrRecord] = []
    seen: set[str] = set()
    for line in body.splitlines():
        m = _DOC_LINE_RE.match(line)
        if not m:
            continue
        key = attribute_key(m.group("label"))
        if key is None or key in seen:
            continue
        try:
            rec = make_attribute(key, m.group("value").strip())
        except ValueError:
            continue  # prose that only looks like a spec line
        seen.add(key)
        out.append(rec)
    return out


def _could_be_sku(text: str) -> bool:
    """Text that may name a product (so it can be looked up): a SKU's length and characters."""
    return 0 < len(text) <= MAX_SKU and SKU_RE.match(text) is not None
