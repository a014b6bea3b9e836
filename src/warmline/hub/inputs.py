"""What every request is refused for before a route sees it: the hub's input limits.

One place for the limits that hold for every field of every route (docs/api.md, "Limits"),
instead of a validator per field: the ASGI guard in ``hub/middleware.py`` runs these on
the path, the query string and JSON bodies, and answers 422 naming the field.

- Text (any string: values, object keys, query values, path ids) must not contain NUL
  (U+0000; PostgreSQL cannot store it) or lone UTF-16 surrogates (``"\\ud800"``: not
  Unicode, cannot be stored or sent back as UTF-8).
- Numbers must be finite JSON numbers: no ``NaN`` / ``Infinity``, no float that overflows
  (``1e999999``), no integer outside 64 bits.
- Bodies must be UTF-8 and nested at most ``MAX_DEPTH`` levels.
- Headers: at most ``MAX_HEADER_FIELDS`` fields and ``MAX_HEADER_BYTES`` in total (431).

Cheap when nothing is wrong: one JSON parse with number hooks, and a walk to name the
field only when the raw bytes show a NUL or surrogate escape, a number was refused or
the body may be deep. The fast message route, whose own parser refuses the rest, only
looks for a NUL escape (``needs_check``).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any
from urllib.parse import parse_qsl

MAX_DEPTH = 32
MAX_INT = 2**63 - 1
MAX_HEADER_FIELDS = 100
MAX_HEADER_BYTES = 16 * 1024
MAX_ERRORS = 20

Problem = dict[str, Any]  # {"loc": [...], "msg": ..., "type": ...}: FastAPI's 422 item

# In a body that is valid UTF-8, a lone surrogate can only come from an escape like this.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


class _Refused:
    """A JSON number the parser met that breaks a limit (reported with its location)."""

    __slots__ = ("kind", "msg")

    def __init__(self, kind: str, msg: str) -> None:
        self.kind = kind
        self.msg = msg


class _Numbers:
    """The parser's number hooks for one body: out-of-limit numbers become ``_Refused``."""

    __slots__ = ("refused",)

    def __init__(self) -> None:
        self.refused = False

    def _refuse(self, kind: str, msg: str) -> _Refused:
        self.refused = True
        return _Refused(kind, msg)

    def constant(self, name: str) -> _Refused:
        return self._refuse("number_not_finite", f"{name} is not a JSON number; numbers must be finite")

    def float(self, text: str) -> float | _Refused:
        value = float(text)
        if not math.isfinite(value):
            return self._refuse(
                "number_out_of_range", "number out of range (a finite 64-bit float is the limit)"
            )
        return value

    def int(self, text: str) -> int | _Refused:
        # (length first: int() of a 5,000-digit string costs, and fails past 4,300 digits)
        if len(text) > 20 or not -MAX_INT - 1 <= (value := int(text)) <= MAX_INT:
            return self._refuse("number_out_of_range", "integer out of range (64-bit signed is the limit)")
        return value


def text_problem(value: str) -> tuple[str, str] | None:
    """(type, reason) when a string breaks the text limits, else None."""
    if "\x00" in value:
        return "string_nul", "must not contain NUL (U+0000)"
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "string_surrogate", "must not contain lone surrogates (not Unicode text)"
    return None


def needs_check(body: bytes) -> bool:
    """For the fast message route (``FastMessageRoute``), whose pydantic JSON parser already
    refuses non-UTF-8, lone surrogate escapes and a number or NaN where text belongs: True
    when the body holds the one thing that parser lets through, a NUL escape (the route
    then hands the request to the app, where ``InputGuard`` answers)."""
    return b"\\u0000" in body


def body_problems(body: bytes) -> list[Problem]:
    """Every limit a JSON body breaks, each with its field's location (empty: fine, or
    not JSON at all -- the route answers that in its own words).

    One parse with number hooks; the document is walked (to name fields) only when the
    raw bytes show a NUL or surrogate escape, a number was refused, or it may be deep."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return [_problem(["body"], "json_invalid", f"body is not UTF-8 (byte {exc.start})")]
    numbers = _Numbers()
    try:
        doc = json.loads(
            text, parse_constant=numbers.constant, parse_float=numbers.float, parse_int=numbers.int
        )
    except RecursionError:
        return [_problem(["body"], "json_too_deep", f"JSON nested more than {MAX_DEPTH} levels")]
    except ValueError:
        return []  # not JSON: the route's own 422 (json_invalid) says where
    if (
        not numbers.refused
        and b"\\u0000" not in body
        and not (b"\\u" in body and _SURROGATE_ESCAPE.search(body))
        and body.count(b"[") + body.count(b"{") <= MAX_DEPTH
    ):
        return []
    return value_problems(doc, ["body"])


def value_problems(doc: Any, root: list[str | int]) -> list[Problem]:
    """Walk a parsed document (iteratively: depth is what is being checked)."""
    out: list[Problem] = []
    stack: list[tuple[Any, list[str | int]]] = [(doc, root)]
    while stack and len(out) < MAX_ERRORS:
        value, loc = stack.pop()
        if isinstance(value, str):
            if found := text_problem(value):
                out.append(_problem(loc, *found))
        elif isinstance(value, _Refused):
            out.append(_problem(loc, value.kind, value.msg))
        elif isinstance(value, dict | list):
            if len(loc) - len(root) >= MAX_DEPTH:
                out.append(_problem(loc, "json_too_deep", f"JSON nested more than {MAX_DEPTH} levels"))
                continue
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in reversed(list(items)):
                if isinstance(key, str) and (found := text_problem(key)):
                    out.append(_problem([*loc, _printable(key)], found[0], f"field name {found[1]}"))
                    continue
                stack.append((item, [*loc, key]))
    return out[:MAX_ERRORS]


def query_problems(query_string: bytes) -> list[Problem]:
    """NUL in query values or names (``%00``), named like FastAPI's ``["query", name]``."""
    if b"%00" not in query_string and b"\x00" not in query_string:
        return []
    out = []
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        for found in (text_problem(name), text_problem(value)):
            if found:
                out.append(_problem(["query", _printable(name)], *found))
                break
    return out[:MAX_ERRORS]


def path_problems(path: str, params: dict[str, Any] | None) -> list[Problem]:
    """NUL in the path (``%00`` in an id), named by the route's parameter when known."""
    if "\x00" not in path:
        return []
    named = [
        _problem(["path", name], *found)
        for name, value in (params or {}).items()
        if isinstance(value, str) and (found := text_problem(value))
    ]
    return named or [_problem(["path"], "string_nul", "must not contain NUL (U+0000)")]


def headers_too_large(headers: list[tuple[bytes, bytes]]) -> str | None:
    """Why the request's header fields are over the limit (431), or None."""
    if len(headers) > MAX_HEADER_FIELDS:
        return f"more than {MAX_HEADER_FIELDS} header fields"
    size = 0
    for name, value in headers:
        size += len(name) + len(value) + 4  # ": " and CRLF, as on the wire
    if size > MAX_HEADER_BYTES:
        return f"header fields over {MAX_HEADER_BYTES} bytes in total"
    return None


def _problem(loc: list[str | int], type_: str, msg: str) -> Problem:
    return {"loc": loc, "msg": msg, "type": type_}


def _printable(key: str) -> str:
    """A field name fit to echo back (NUL and surrogates escaped)."""
    return key.replace("\x00", "\\x00").encode("utf-8", "backslashreplace").decode("utf-8")
