"""Request latency by route template, and the `/metrics` endpoint."""

from __future__ import annotations

import time

from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.types import Message, Receive, Scope, Send

from gateway.asgi import HttpMiddleware
from observability.metrics import HTTP_SECONDS


class LatencyMiddleware(HttpMiddleware):
    """Not BaseHTTPMiddleware, which would buffer: for a stream the figure is the time to the
    response start."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                route = scope.get("route")
                HTTP_SECONDS.labels(
                    scope["method"], getattr(route, "path", "unmatched"), str(status)
                ).observe(time.perf_counter() - started)
            await send(message)

        await self.app(scope, receive, sending)


def install(app: FastAPI) -> None:
    app.add_middleware(LatencyMiddleware)

    @app.get("/metrics", include_in_schema=False)
    async def metrics(_: Request) -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
