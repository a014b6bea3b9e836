"""Hub errors: each becomes `{"detail": ErrorDetail}` with its HTTP status."""

from __future__ import annotations

import json
from typing import Any

from fastapi.exceptions import RequestValidationError

from warmline.domain.models import AgentRef, ErrorDetail


class HubError(Exception):
    """A refusal the client can act on: status, a stable code, a sentence, maybe an owner."""

    status = 400

    def __init__(self, code: str, message: str, *, owner: AgentRef | None = None, status: int | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.owner = owner
        if status is not None:
            self.status = status

    def detail(self) -> ErrorDetail:
        return ErrorDetail(code=self.code, message=self.message, owner=self.owner)


class Unauthorized(HubError):
    status = 401


class Forbidden(HubError):
    status = 403


class NotFound(HubError):
    status = 404

    def __init__(self, what: str, ident: str):
        super().__init__("not_found", f"{what} {ident!r} not found")


class Conflict(HubError):
    status = 409


def field_error(
    loc: tuple[str | int, ...], msg: str, type_: str = "value_error", value: Any = None
) -> Exception:
    """A 422 naming one field, shaped like FastAPI's own validation errors."""
    return RequestValidationError([{"loc": loc, "msg": msg, "type": type_, "input": value}])


async def answer_error(app: Any, request: Any, exc: Exception) -> Any:
    """The response the app's exception handlers give ``exc`` (for routes answered ahead of
    the app's middleware, which would otherwise do this); re-raises when none handles it."""
    handlers = getattr(app, "exception_handlers", {})
    for cls in type(exc).__mro__:
        handler = handlers.get(cls)
        if handler is not None:
            return await handler(request, exc)
    raise exc


async def validation_error(_request: Any, exc: RequestValidationError) -> Any:
    """FastAPI's 422 body, with any echoed ``input`` it cannot send as JSON left out.

    FastAPI's own handler echoes each field's input; a NaN, a lone surrogate or raw bytes
    that are not UTF-8 there made that answer itself fail (a 500 for a bad request)."""
    from fastapi.encoders import jsonable_encoder
    from fastapi.responses import Response

    items = []
    for error in exc.errors():
        try:
            item = jsonable_encoder(error)
            json.dumps(item, allow_nan=False, ensure_ascii=False).encode("utf-8")
        except (ValueError, TypeError, RecursionError):  # (UnicodeError is a ValueError)
            keep = ("loc", "msg", "type", "closest")  # (closest: "did you mean" SKUs)
            item = jsonable_encoder({k: v for k, v in error.items() if k in keep})
            item["loc"] = [_safe_text(x) if isinstance(x, str) else x for x in item["loc"]]
        items.append(item)
    body = json.dumps({"detail": items}, ensure_ascii=True, allow_nan=False).encode()
    return Response(body, 422, media_type="application/json")


def _safe_text(value: str) -> str:
    return value.encode("utf-8", "backslashreplace").decode("utf-8")
