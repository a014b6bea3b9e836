"""Refusals before any route runs: bodies over the limit (413), header fields over the
limit (431), and text, numbers or nesting over the hub's input limits (422 naming the field;
the limits are in ``hub/inputs.py`` and docs/api.md)."""

from __future__ import annotations

import json
from typing import Any

import fastapi.routing
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from warmline.hub import inputs


class _TooLarge(Exception):
    pass


class BodySizeLimit:
    """Pure ASGI middleware: 413 before the body is parsed (streamed bodies counted too)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > self.max_bytes:
                    await self._reject(send)
                    return
        seen = 0
        started = False
        rejected = False

        async def limited_receive() -> Message:
            nonlocal seen, rejected
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    # Answer now: the app may turn a failing receive() into its own 400.
                    if not started and not rejected:
                        rejected = True
                        await self._reject(send)
                    raise _TooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if rejected:
                return  # the 413 has been sent; drop whatever the app answers
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except _TooLarge:
            if not started and not rejected:
                await self._reject(send)

    async def _reject(self, send: Send) -> None:
        await reject_too_large(send, self.max_bytes)


async def reject_too_large(send: Send, max_bytes: int) -> None:
    """The 413 answer, in the hub's error shape."""
    message = f"request body is over {max_bytes} bytes"
    await _answer(send, 413, {"detail": {"code": "request_too_large", "message": message, "owner": None}})


class InputGuard:
    """Pure ASGI middleware: 422 naming the field for NUL or lone surrogates in any text
    (path ids, query values, JSON strings and keys), non-finite or out-of-range numbers,
    non-UTF-8 or too deeply nested JSON -- for every route, whatever its models say.

    A body is read whole (``BodySizeLimit`` outside has bounded it) and parsed once here (a
    few microseconds per kilobyte; the fields are walked only when something is off); the
    route then reads the same bytes."""

    BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problems = []
        if "\x00" in scope["path"]:
            problems += inputs.path_problems(scope["path"], _path_params(scope))
        if scope.get("query_string"):
            problems += inputs.query_problems(scope["query_string"])
        if scope["method"] not in self.BODY_METHODS:
            if problems:
                await reject_invalid(send, problems)
            else:
                await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        chunks = []
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break  # the client left: let the app see it
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if body:
            problems += inputs.body_problems(body)
        if problems:
            await reject_invalid(send, problems[: inputs.MAX_ERRORS])
            return

        async def replay() -> Message:
            if messages:
                return messages.pop(0)
            return await receive()

        await self.app(scope, replay, send)


def _path_params(scope: Scope) -> dict[str, Any] | None:
    """The path parameters of the route ``scope`` goes to (to name the field in a 422)."""
    routes: Any = getattr(getattr(scope.get("app"), "router", None), "routes", ())
    flatten = getattr(fastapi.routing, "iter_route_contexts", None)  # (FastAPI nests included routers)
    for route in flatten(routes) if flatten is not None else routes:
        regex = getattr(route, "path_regex", None)
        found = regex.match(scope["path"]) if regex is not None else None
        if found is not None:
            return found.groupdict()
    return None


async def reject_invalid(send: Send, problems: list[dict[str, Any]]) -> None:
    """422 in FastAPI's validation shape: ``{"detail": [{"loc", "msg", "type"}]}``."""
    await _answer(send, 422, {"detail": problems})


async def reject_header_fields(send: Send, why: str) -> None:
    """431 when the header fields are over the limit (``inputs.headers_too_large``)."""
    detail = {"code": "request_header_fields_too_large", "message": why, "owner": None}
    await _answer(send, 431, {"detail": detail})


async def _answer(send: Send, status: int, content: Any) -> None:
    body = json.dumps(content, ensure_ascii=True).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
