"""Mapping files: how a foreign table's columns become our products and attributes.

A real external table loads without being edited: the mapping names the columns,
their units, what "missing" looks like, and templates for SKU and name. Format (TOML):

    [mapping]
    missing = ["–", ""]            # cell values meaning "no value"
    family = "bearing"              # constant ... or family_column = "Family"
    manufacturer = "SKT"

    [sku]
    template = "{SKT:Designation}"  # {column} or {variable}
    strip = '^\\s*\\*\\s*'          # regex removed from the result
    fallback = "{code} {Size}"      # used when the template's columns are missing

    [name]
    template = "{series} {sku}"

    [files."*deep_groove*"]         # variables for files whose name matches the glob
    series = "Deep groove ball bearing"

    [attributes.bore]
    column = "SKT:d"                # or a list: the first present in the file is used
    unit = "mm"                     # numbers in the column are in this unit
    pattern = '...'                 # optional regex; group 1 (or the match) is the value
    value = "yes"                   # with pattern: the value when it matches (default: the match)
    template = "{series}"           # instead of column: a value built from columns/variables
    default = "open"                # used when the cell is missing or the pattern fails
    required = true                 # a missing value is an error

A column name repeated in a header is addressed as "NAME#2" for its second occurrence.
"""

from __future__ import annotations

import fnmatch
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_TEMPLATE_RE = re.compile(r"\{([^{}]+)\}")


class MappingError(ValueError):
    """A mapping file that cannot be used; the message names the file and key."""


@dataclass(frozen=True)
class AttributeMap:
    name: str
    columns: tuple[str, ...]
    unit: str = ""
    pattern: re.Pattern[str] | None = None
    default: str | None = None
    required: bool = False
    template: str | None = None  # a value built from columns and file variables instead
    value: str | None = None  # with pattern: the value when the pattern matches


@dataclass(frozen=True)
class Template:
    template: str
    strip: re.Pattern[str] | None = None
    fallback: str | None = None


@dataclass
class Mapping:
    path: Path
    missing: frozenset[str] = frozenset({"", "–", "—", "-", "n/a", "N/A"})
    family: str | None = None
    family_column: str | None = None
    manufacturer: str = ""
    status: str = "active"
    sku: Template = field(default_factory=lambda: Template("{sku}"))
    name: Template = field(default_factory=lambda: Template("{name}"))
    file_vars: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    attributes: list[AttributeMap] = field(default_factory=list)
    doc_kind: str = "table"

    def variables_for(self, file_name: str) -> dict[str, str]:
        """Per-file variables from every [files."glob"] table whose glob matches."""
        out: dict[str, str] = {}
        for pattern, values in self.file_vars:
            if fnmatch.fnmatch(file_name, pattern):
                out.update(values)
        return out

    def is_missing(self, value: str | None) -> bool:
        return value is None or value.strip() in self.missing


def render(template: str, values: dict[str, str], missing: Mapping | None = None) -> str | None:
    """Fill ``{key}`` slots; None when a slot's value is absent or missing."""
    absent = False

    def sub(m: re.Match[str]) -> str:
        nonlocal absent
        v = values.get(m.group(1))
        if v is None or (missing is not None and missing.is_missing(v)):
            absent = True
            return ""
        return v.strip()

    out = _TEMPLATE_RE.sub(sub, template)
    return None if absent else out.strip()


def _regex(value: Any, where: str) -> re.Pattern[str] | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise MappingError(f"{where}: must be a regular expression string")
    try:
        return re.compile(value)
    except re.error as exc:
        raise MappingError(f"{where}: bad regular expression: {exc}") from exc


def _template(data: Any, where: str, default: str) -> Template:
    if data is None:
        return Template(default)
    if isinstance(data, str):
        return Template(data)
    if not isinstance(data, dict) or not isinstance(data.get("template", default), str):
        raise MappingError(f"{where}: expected a string or a table with 'template'")
    return Template(
        data.get("template", default), _regex(data.get("strip"), f"{where}.strip"), data.get("fallback")
    )


def load_mapping(path: str | Path) -> Mapping:
    """Read and check a mapping file (errors name the file and the key)."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MappingError(f"{path}: mapping file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise MappingError(f"{path}: not valid TOML: {exc}") from exc
    head = data.get("mapping", {})
    m = Mapping(path=path)
    if "missing" in head:
        if not isinstance(head["missing"], list) or not all(isinstance(x, str) for x in head["missing"]):
            raise MappingError(f"{path}: mapping.missing: must be a list of strings")
        m.missing = frozenset(x.strip() for x in head["missing"])
    m.family = head.get("family")
    m.family_column = head.get("family_column")
    m.manufacturer = head.get("manufacturer", "")
    m.status = head.get("status", "active")
    m.doc_kind = head.get("source_kind", "table")
    if m.family is None and m.family_column is None:
        raise MappingError(f"{path}: mapping: give 'family' or 'family_column'")
    m.sku = _template(data.get("sku"), f"{path}: sku", "{sku}")
    m.name = _template(data.get("name"), f"{path}: name", "{name}")
    for pattern, values in (data.get("files") or {}).items():
        if not isinstance(values, dict):
            raise MappingError(f"{path}: files.{pattern}: must be a table of variables")
        m.file_vars.append((pattern, {k: str(v) for k, v in values.items()}))
    for name, spec in (data.get("attributes") or {}).items():
        where = f"{path}: attributes.{name}"
        if isinstance(spec, str):
            spec = {"column": spec}
        if not isinstance(spec, dict) or ("column" not in spec and "template" not in spec):
            raise MappingError(f"{where}: needs 'column' (or 'template')")
        cols = spec.get("column", [])
        columns = (cols,) if isinstance(cols, str) else tuple(cols)
        unit = spec.get("unit", "")
        if unit:
            from warmline.catalog.units import unit_for

            try:
                unit_for(unit)
            except KeyError:
                raise MappingError(f"{where}.unit: unknown unit {unit!r}") from None
        m.attributes.append(
            AttributeMap(
                name=name,
                columns=columns,
                unit=unit,
                pattern=_regex(spec.get("pattern"), f"{where}.pattern"),
                default=spec.get("default"),
                required=bool(spec.get("required", False)),
                template=spec.get("template"),
                value=None if spec.get("value") is None else str(spec["value"]),
            )
        )
    return m
