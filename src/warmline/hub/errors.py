"""Hub errors: each becomes `{"detail": ErrorDetail}` with its HTTP status."""

from __future__ import annotations

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
