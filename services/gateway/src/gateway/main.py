"""`create_app`: the gateway's composition root. Nothing connects at import time."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from nats.aio.client import Client as NATS
from starlette.exceptions import HTTPException as StarletteHTTPException

from gateway import metrics
from gateway.allow import allowed_methods
from gateway.api import (
    admin,
    asyncapi,
    auth,
    chat,
    documents,
    export,
    health,
    imports,
    keys,
    messages,
    models,
    projects,
    providers,
    search,
    shares,
    task_routes,
    threads,
    tree,
    usage,
    v1,
    web,
)
from gateway.api.responses import ERRORS
from gateway.bus import Bus, CodedError
from gateway.config import Settings
from gateway.correlation import CorrelationId
from gateway.limits import BodySizeLimit
from gateway.ratelimit import StreamSlots, UserLimits
from gateway.revocations import RevocationFeed
from gateway.security import AccessTokens, Passwords
from gateway.shared_limits import SharedLimits
from gateway.v1_wire import openai_error, speaks_openai
from messaging import connection

log = structlog.get_logger(__name__)


async def connect_nats(
    settings: Settings, on_reconnect: connection.Callback | None = None
) -> tuple[NATS, asyncio.Task[None]]:
    """A client that keeps reconnecting forever, its first connection retried in the
    background: the gateway starts and answers 503 until NATS is there."""
    return await connection.connect_in_background(
        settings.nats_url, name="gateway", auth=settings.nats_auth, on_reconnect=on_reconnect
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        feed: list[RevocationFeed] = []

        async def reconnected() -> None:
            for f in feed:
                await f.resync()

        nc, connecting = await connect_nats(settings, reconnected)
        app.state.bus = Bus(nc, settings.request_timeout)
        feed.append(RevocationFeed(nc, app.state.bus, app.state.access_tokens))
        feed[0].start(connecting)
        shared_limits.start(nc)
        gc.freeze()  # startup objects out of the collector's way: shorter full collections
        try:
            yield
        finally:
            shared_limits.stop()
            await feed[0].stop()
            connecting.cancel()
            if nc.is_connected:
                await nc.drain()
            else:
                await nc.close()

    app = FastAPI(
        title="Switchboard",
        version="0.1.0",
        summary="Self-hosted, multi-user chat backend for large language models",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.access_tokens = AccessTokens(settings)
    app.state.passwords = Passwords(settings)
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_body_bytes,
        larger={"/api/imports": settings.max_import_bytes},
    )
    streams = StreamSlots(settings.max_streams_per_user)
    shared_limits = SharedLimits(settings, streams)
    app.add_middleware(
        UserLimits,
        settings=settings,
        access_tokens=app.state.access_tokens,
        shared=shared_limits,
        streams=streams,
    )

    @app.exception_handler(RequestValidationError)
    async def on_validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's standard 422 shape, minus the echoed input (it may hold a password).
        errors = [
            {k: v for k, v in e.items() if k not in ("input", "ctx", "url")} for e in exc.errors()
        ]
        return JSONResponse({"detail": errors}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(request: Request, exc: StarletteHTTPException) -> Response:
        # Errors no route answered (an unknown /v1 path, a wrong method): OpenAI's shape there.
        if exc.status_code == 405:
            allow = allowed_methods(request.app.router.routes, request.scope["path"])
            exc = StarletteHTTPException(405, exc.detail, {**(exc.headers or {}), "Allow": allow})
        code = exc.code if isinstance(exc, CodedError) else None
        if speaks_openai(request.url.path):
            return openai_error(exc.status_code, str(exc.detail), code, headers=exc.headers)
        if code is not None:
            body = {"detail": exc.detail, "code": code}
            return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)
        return await http_exception_handler(request, exc)

    metrics.install(app)
    app.add_middleware(CorrelationId)  # outermost: every answer carries X-Request-ID
    for module in (
        health,
        auth,
        threads,
        projects,
        messages,
        documents,
        providers,
        task_routes,
        models,
        chat,
        tree,
        export,
        imports,
        keys,
        shares,
        search,
        usage,
        admin,
        v1,
        web,
        asyncapi,
    ):
        documented = None if module in (health, web, asyncapi) else ERRORS
        if module is v1:  # its errors have OpenAI's shape, not {"detail"}
            documented = {code: {"description": r["description"]} for code, r in ERRORS.items()}
        app.include_router(module.router, responses=documented)
    return app
