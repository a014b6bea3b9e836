"""uvicorn with a shutdown that ends the hub's event streams first (else it waits on them)."""

from __future__ import annotations

import socket

import uvicorn
from fastapi import FastAPI

from warmline.hub.app import begin_shutdown


class HubServer(uvicorn.Server):
    """A uvicorn Server that closes SSE streams before waiting for connections to finish."""

    def __init__(self, config: uvicorn.Config, app: FastAPI) -> None:
        super().__init__(config)
        self.hub_app = app

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        begin_shutdown(self.hub_app)
        await super().shutdown(sockets)


def server_config(app: FastAPI, *, host: str, port: int, log_level: str = "info") -> uvicorn.Config:
    """uvicorn settings the hub relies on (bounded graceful shutdown, no access log noise)."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=5,
        # Longer than clients' own idle expiry (httpx: 5 s), so the client always drops an
        # idle connection first; equal timeouts race and a reused connection dies mid-request.
        timeout_keep_alive=75,
        proxy_headers=False,
    )
