"""Reading catalog files: CSV, JSON, JSON Lines (own format or through a mapping) and documents.

``collect`` reads and checks every file under a path without touching a database: records
for the products and documents it found, and every problem as ``file:line: column: reason``.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from warmline.catalog.mapping import Mapping, load_mapping, render
from warmline.catalog.models import DocKind, Lifecycle, RelationKind
from warmline.catalog.records import (
    DOC_SUFFIXES,
    MAX_MANUFACTURER,
    MAX_NAME,
    MAX_ORIGIN,
    MAX_SKU,
    NOT_TEXT,
    SKU_RE,
    TABLE_SUFFIXES,
    DocRecord,
    ProductRecord,
    _could_be_sku,
    _quoted,
    extract_document_attributes,
    known_families,
    make_attribute,
    sku_key,
)
from warmline.catalog.units import is_plain_text


class _Collector:
    """Gathers records and errors across files of one run."""

    def __init__(self, families: list[str]) -> None:
        self.families = set(families)
        self.family_list = families
        self.products: dict[str, ProductRecord] = {}
        self.keys: dict[str, ProductRecord] = {}  # sku_key -> the first record with it
        self.doc_products: list[ProductRecord] = []
        self.errors: list[str] = []
        self.warnings: list[str] = []
        self.files = 0

    def error(self, where: str, column: str, reason: str) -> None:
        self.errors.append(f"{where}: {column}: {reason}")

    def add(self, rec: ProductRecord) -> None:
        ok = True
        if not rec.sku:
            self.error(rec.where, "sku", "missing")
            return
        if len(rec.sku) > MAX_SKU:
            self.error(rec.where, "sku", f"longer than {MAX_SKU} characters")
            ok = False
        elif not SKU_RE.match(rec.sku):
            self.error(rec.where, "sku", f"{_quoted(rec.sku)} has characters a SKU cannot have")
            ok = False
        if not rec.name:
            self.error(rec.where, "name", "missing")
            ok = False
        elif len(rec.name) > MAX_NAME:
            self.error(rec.where, "name", f"longer than {MAX_NAME} characters")
            ok = False
        elif not is_plain_text(rec.name):
            self.error(rec.where, "name", NOT_TEXT)
            ok = False
        if len(rec.manufacturer) > MAX_MANUFACTURER:
            self.error(rec.where, "manufacturer", f"longer than {MAX_MANUFACTURER} characters")
            ok = False
        elif not is_plain_text(rec.manufacturer):
            self.error(rec.where, "manufacturer", NOT_TEXT)
            ok = False
        if not rec.family:
            self.error(rec.where, "family", "missing")
            ok = False
        elif rec.family not in self.families:
            self.error(
                rec.where,
                "family",
                f"unknown family {_quoted(rec.family)} (known: {', '.join(self.family_list)})",
            )
            ok = False
        if rec.status not in {s.value for s in Lifecycle}:
            self.error(
                rec.where, "status", f"{_quoted(rec.status)} is not one of active, discontinued, superseded"
            )
            ok = False
        if rec.superseded_by:
            if not _could_be_sku(rec.superseded_by):
                self.error(rec.where, "superseded_by", f"{_quoted(rec.superseded_by)} is not a SKU")
                rec.superseded_by = None  # not looked up in the database
                ok = False
            elif rec.superseded_by == rec.sku:
                self.error(rec.where, "superseded_by", "a product cannot supersede itself")
                ok = False
            if rec.status in (Lifecycle.ACTIVE.value, Lifecycle.DISCONTINUED.value):
                rec.status = Lifecycle.SUPERSEDED.value  # a named successor makes it "superseded"
        elif rec.status == Lifecycle.SUPERSEDED.value:
            self.error(rec.where, "superseded_by", "status is 'superseded' but no successor SKU is given")
            ok = False
        if rec.sku in self.products:
            first = self.products[rec.sku].where
            self.error(rec.where, "sku", f"{rec.sku!r} appears twice in this run (first at {first})")
            return
        key = sku_key(rec.sku)
        other = self.keys.get(key)
        if other is not None:  # "DC-1", "dc-1", "DC 1": one SKU to anyone looking it up
            self.error(
                rec.where,
                "sku",
                f"{rec.sku!r} is the same SKU as {other.sku!r} (at {other.where}) "
                "once case and punctuation are ignored",
            )
            return
        self.keys[key] = rec
        if ok:
            self.products[rec.sku] = rec
        else:
            self.products.setdefault(rec.sku, rec)


def _cell_dict(header: list[str], row: list[str]) -> dict[str, str]:
    """Row as {column: value}; a repeated header name gets "#2", "#3" for later occurrences."""
    out: dict[str, str] = {}
    seen: dict[str, int] = {}
    for name, value in zip(header, row, strict=False):
        name = name.strip()
        seen[name] = seen.get(name, 0) + 1
        out[name if seen[name] == 1 else f"{name}#{seen[name]}"] = value
    return out


def _read_table_rows(path: Path, origin: str, col: _Collector) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, row) pairs from a CSV, JSON (array of objects) or JSON Lines file."""
    suffix = path.suffix.lower()
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        col.error(f"{origin}:1", "file", f"not UTF-8 text ({exc.reason})")
        return
    if suffix == ".csv":
        reader = csv.reader(io.StringIO(text))
        try:
            header = next(reader)
        except StopIteration:
            col.error(f"{origin}:1", "file", "empty file")
            return
        for row in reader:
            line = reader.line_num
            if not any(c.strip() for c in row):
                continue
            if len(row) != len(header):
                col.error(f"{origin}:{line}", "row", f"has {len(row)} cells, the header has {len(header)}")
                continue
            yield line, _cell_dict(header, row)
    elif suffix in (".jsonl", ".ndjson"):
        for line, raw in enumerate(text.splitlines(), start=1):
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw)
            except json.JSONDecodeError as exc:
                col.error(f"{origin}:{line}", "json", f"not valid JSON ({exc.msg} at column {exc.colno})")
                continue
            if not isinstance(obj, dict):
                col.error(f"{origin}:{line}", "json", "each line must be a JSON object")
                continue
            yield line, obj
    else:
        yield from _json_array(text, origin, col)


def _json_array(text: str, origin: str, col: _Collector) -> Iterator[tuple[int, dict[str, Any]]]:
    decoder = json.JSONDecoder()
    pos = _skip_ws(text, 0)
    if pos >= len(text) or text[pos] not in "[{":
        col.error(f"{origin}:1", "json", "expected a JSON array of objects")
        return
    if text[pos] == "{":  # {"products": [...]} is accepted too
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            col.error(f"{origin}:{exc.lineno}", "json", f"not valid JSON ({exc.msg})")
            return
        items = obj.get("products") if isinstance(obj, dict) else None
        if not isinstance(items, list):
            col.error(f"{origin}:1", "json", "an object must hold a 'products' array")
            return
        for i, item in enumerate(items):
            if isinstance(item, dict):
                yield 1, item
            else:
                col.error(f"{origin}:1", f"products[{i}]", "must be an object")
        return
    pos += 1
    while True:
        pos = _skip_ws(text, pos)
        if pos < len(text) and text[pos] == "]":
            return
        line = text.count("\n", 0, pos) + 1
        try:
            obj, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            col.error(f"{origin}:{exc.lineno}", "json", f"not valid JSON ({exc.msg})")
            return
        if isinstance(obj, dict):
            yield line, obj
        else:
            col.error(f"{origin}:{line}", "json", "array items must be objects")
        pos = _skip_ws(text, end)
        if pos < len(text) and text[pos] == ",":
            pos += 1
        elif pos < len(text) and text[pos] == "]":
            return
        else:
            col.error(f"{origin}:{text.count(chr(10), 0, pos) + 1}", "json", "expected ',' or ']'")
            return


def _skip_ws(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


_NATIVE_FIELDS = {"sku", "name", "family", "manufacturer", "status", "superseded_by"}
_RELATION_FIELDS = {k.value for k in RelationKind}
_HEADER_UNIT_RE = re.compile(r"^(?P<name>.+?)\s*[\[(](?P<unit>[^\])]+)[\])]\s*$")


def _native_record(obj: dict[str, Any], origin: str, line: int, col: _Collector) -> None:
    """A product in our own format (JSON object, or CSV row with named columns)."""
    where = f"{origin}:{line}"

    def text_field(name: str) -> str:
        v = obj.get(name)
        if v is None:
            return ""
        if not isinstance(v, str | int | float):
            col.error(where, name, "must be text")
            return ""
        return str(v).strip()

    rec = ProductRecord(
        sku=text_field("sku"),
        origin=origin,
        where=where,
        name=text_field("name"),
        family=text_field("family").lower(),
        manufacturer=text_field("manufacturer"),
        status=(text_field("status") or "active").lower(),
        superseded_by=text_field("superseded_by") or None,
    )
    attrs = obj.get("attributes")
    items: Iterable[tuple[str, Any]]
    if isinstance(attrs, dict):
        items = [(f"attributes.{k}", (k, v)) for k, v in attrs.items()]
    elif isinstance(attrs, list):
        items = []
        for i, a in enumerate(attrs):
            if not isinstance(a, dict) or "name" not in a:
                col.error(where, f"attributes[{i}]", "must be an object with 'name' and 'value'")
                continue
            items.append(
                (f"attributes.{a['name']}", (a["name"], {"value": a.get("value"), "unit": a.get("unit", "")}))
            )
    elif attrs is None:
        # flat CSV-style: every other column is an attribute or a relation list
        items = []
        for k, v in obj.items():
            if k in _NATIVE_FIELDS or k in ("documents", "relations"):
                continue
            if k in _RELATION_FIELDS:
                for target in str(v or "").replace(",", ";").split(";"):
                    if not target.strip():
                        continue
                    if _could_be_sku(target.strip()):
                        rec.relations.append((k, target.strip(), "", where))
                    else:
                        col.error(where, k, f"{_quoted(target.strip())} is not a SKU")
                continue
            if v is None or (isinstance(v, str) and not v.strip()):
                continue
            m = _HEADER_UNIT_RE.match(k)
            if m:
                items.append((k, (m.group("name"), {"value": v, "unit": m.group("unit").strip()})))
            else:
                items.append((k, (k, v)))
    else:
        col.error(where, "attributes", "must be an object or a list")
        items = []
    for column, (name, value) in items:
        try:
            rec.attributes.append(make_attribute(str(name), value))
        except ValueError as exc:
            col.error(where, column, str(exc))
    for i, d in enumerate(obj.get("documents") or []):
        doc = _doc_from_obj(d, f"documents[{i}]", where, col, rec.sku)
        if doc is not None:
            rec.documents.append(doc)
    rels = obj.get("relations") or []
    if not isinstance(rels, list):
        col.error(where, "relations", "must be a list")
        rels = []
    for i, r in enumerate(rels):
        if not isinstance(r, dict) or not isinstance(r.get("sku"), str):
            col.error(where, f"relations[{i}]", "must be an object with 'kind' and 'sku'")
            continue
        kind = str(r.get("kind", ""))
        if kind not in _RELATION_FIELDS:
            col.error(
                where,
                f"relations[{i}].kind",
                f"{_quoted(kind)} is not one of {', '.join(sorted(_RELATION_FIELDS))}",
            )
            continue
        note = str(r.get("note", ""))[:500]
        if not is_plain_text(note):
            col.error(where, f"relations[{i}].note", NOT_TEXT)
            continue
        if not _could_be_sku(r["sku"].strip()):
            col.error(where, f"relations[{i}].sku", f"{_quoted(r['sku'])} is not a SKU")
            continue
        rec.relations.append((kind, r["sku"].strip(), note, where))
    col.add(rec)


def _doc_from_obj(d: Any, column: str, where: str, col: _Collector, sku: str) -> DocRecord | None:
    if not isinstance(d, dict):
        col.error(where, column, "must be an object with 'kind', 'title' and 'text'")
        return None
    kind = str(d.get("kind", "")).lower()
    if kind not in {k.value for k in DocKind}:
        col.error(where, f"{column}.kind", f"{kind!r} is not one of {', '.join(k.value for k in DocKind)}")
        return None
    body = d.get("text")
    if not isinstance(body, str) or not body.strip():
        col.error(where, f"{column}.text", "missing or empty")
        return None
    title = str(d.get("title") or f"{sku} {kind}")[:300]
    ref = str(d.get("ref", ""))[:500]
    for name, value in (("text", body), ("title", title), ("ref", ref)):
        if not is_plain_text(value):
            col.error(where, f"{column}.{name}", NOT_TEXT)
            return None
    return DocRecord(kind, title, ref, body, extract_document_attributes(body))


def _mapped_record(
    m: Mapping, row: dict[str, Any], file_vars: dict[str, str], origin: str, line: int, col: _Collector
) -> None:
    """A row of a foreign table, read through a mapping file."""
    where = f"{origin}:{line}"
    values = {k: ("" if v is None else str(v)) for k, v in row.items()}
    values.update(file_vars)
    sku = render(m.sku.template, values, m)
    if sku is not None and m.sku.strip is not None:
        sku = m.sku.strip.sub("", sku).strip()
    if not sku and m.sku.fallback:
        sku = render(m.sku.fallback, values, m)
    if not sku:
        col.error(where, _first_slot(m.sku.template), "no SKU (value missing and no usable fallback)")
        return
    values["sku"] = sku
    name = render(m.name.template, values, m) or sku
    family = m.family or str(row.get(m.family_column or "", "")).strip().lower()
    rec = ProductRecord(
        sku=sku,
        origin=origin,
        where=where,
        name=name,
        family=family,
        manufacturer=m.manufacturer,
        status=m.status,
    )
    for a in m.attributes:
        column = next((c for c in a.columns if c in row), None)
        if a.template is not None:
            cell = render(a.template, values, m)
        else:
            cell = None if column is None else row.get(column)
            cell = None if cell is None or m.is_missing(str(cell)) else str(cell).strip()
        if cell is not None and a.pattern is not None:
            hit = a.pattern.search(cell)
            if hit is None:
                cell = None
            elif a.value is not None:
                cell = a.value
            else:
                cell = hit.group(1) if hit.groups() else hit.group(0)
        if cell is None:
            cell = a.default
        label = column or (a.columns[0] if a.columns else a.name)
        if cell is None:
            if a.required:
                col.error(where, label, "required value is missing")
            continue
        try:
            rec.attributes.append(make_attribute(a.name, cell, a.unit if a.pattern is None else ""))
        except ValueError as exc:
            col.error(where, label, str(exc))
    col.add(rec)


def _first_slot(template: str) -> str:
    m = re.search(r"\{([^{}]+)\}", template)
    return m.group(1) if m else "sku"


_FRONT_RE = re.compile(r"\A---\s*\n(?P<head>.*?)\n---\s*\n", re.DOTALL)
_NAME_RE = re.compile(r"^(?P<sku>.+?)__(?P<kind>[a-z]+)(?:__.*)?$")


def _read_document(path: Path, origin: str, col: _Collector) -> None:
    """A document file: front matter (sku, kind, title) or a name like ``SKU__datasheet.md``."""
    where = f"{origin}:1"
    if path.suffix.lower() == ".pdf":
        try:
            from pypdf import PdfReader

            body = "\n".join(page.extract_text() or "" for page in PdfReader(str(path)).pages)
        except Exception as exc:
            col.error(where, "file", f"cannot read PDF text ({type(exc).__name__}: {exc})")
            return
    else:
        try:
            body = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            col.error(where, "file", f"not UTF-8 text ({exc.reason})")
            return
    if not is_plain_text(body):
        col.error(where, "text", NOT_TEXT)
        return
    head: dict[str, str] = {}
    fm = _FRONT_RE.match(body)
    if fm:
        for n, raw in enumerate(fm.group("head").splitlines(), start=2):
            if not raw.strip() or raw.lstrip().startswith("#"):
                continue
            if ":" not in raw:
                col.error(f"{origin}:{n}", "front matter", f"{raw.strip()!r} is not 'key: value'")
                continue
            k, v = raw.split(":", 1)
            head[k.strip().lower()] = v.strip().strip("\"'")
        body = body[fm.end() :]
    by_name = _NAME_RE.match(path.stem)
    skus_text = head.get("skus") or head.get("sku") or (by_name.group("sku") if by_name else "")
    kind = (head.get("kind") or (by_name.group("kind") if by_name else "")).lower()
    if not skus_text:
        if fm is None:  # a README or notes file in a data folder: not a product document
            col.warnings.append(f"{where}: skipped: no front matter and not named SKU__kind.ext")
        else:
            col.error(where, "sku", "no SKU: give 'sku:' in front matter or name the file SKU__kind.ext")
        return
    if kind not in {k.value for k in DocKind}:
        col.error(
            where,
            "kind",
            f"{kind!r} is not one of {', '.join(k.value for k in DocKind)}"
            if kind
            else "missing: give 'kind:' in front matter or name the file SKU__kind.ext",
        )
        return
    if not body.strip():
        col.error(where, "text", "document has no text")
        return
    title = (head.get("title") or _first_heading(body) or path.stem)[:300]
    attrs = extract_document_attributes(body)
    for sku in [s.strip() for s in skus_text.split(",") if s.strip()]:
        if not _could_be_sku(sku):
            col.error(where, "sku", f"{_quoted(sku)} is not a SKU")
            continue
        rec = ProductRecord(sku=sku, origin=origin, where=where, documents_only=True)
        rec.documents.append(DocRecord(kind, title, head.get("ref", origin)[:500], body, list(attrs)))
        col.doc_products.append(rec)


def _first_heading(body: str) -> str | None:
    m = re.search(r"^#+\s+(.+)$", body, re.MULTILINE)
    return m.group(1).strip() if m else None


def collect(
    path: str | Path,
    *,
    mapping: str | Path | Mapping | None = None,
    families: list[str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> _Collector:
    """Read and check every file under ``path`` (no database); errors are gathered, not raised."""
    root = Path(path)
    col = _Collector(families or known_families())
    mp = load_mapping(mapping) if isinstance(mapping, str | Path) else mapping
    if not root.exists():
        col.error(str(root), "path", "no such file or folder")
        return col
    files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
    files = [p for p in files if p.suffix.lower() in TABLE_SUFFIXES | DOC_SUFFIXES]
    if root.is_file() and not files:
        col.error(
            str(root), "file", f"unsupported file type {root.suffix!r} (csv, json, jsonl, md, txt, pdf)"
        )
    col.files = len(files)
    for f in files:
        origin = f.relative_to(root).as_posix() if root.is_dir() else f.name
        if len(origin) > MAX_ORIGIN or not is_plain_text(origin):
            reason = f"longer than {MAX_ORIGIN} characters" if len(origin) > MAX_ORIGIN else NOT_TEXT
            cut = origin if len(origin) <= 80 else f"{origin[:80]}… ({len(origin)} characters)"
            col.error(f"{cut!r}:1" if reason == NOT_TEXT else f"{cut}:1", "path", reason)
            if progress:
                progress(1)
            continue
        if f.suffix.lower() in TABLE_SUFFIXES:
            rows = _read_table_rows(f, origin, col)
            if mp is not None:
                file_vars = mp.variables_for(f.name)
                for line, row in rows:
                    _mapped_record(mp, row, file_vars, origin, line, col)
            else:
                for line, row in rows:
                    _native_record(row, origin, line, col)
        else:
            _read_document(f, origin, col)
        if progress:
            progress(1)
    return col
