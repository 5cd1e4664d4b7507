"""The correlation id of each HTTP request: in as `X-Request-ID`, out on every response.

A client's `X-Request-ID` that is a UUID becomes the correlation id; otherwise (absent or not a
UUID) a fresh one is made. Every envelope the request sends over NATS carries it (see
`deps.envelope`), so the threads service, the stored events and the chat worker log it too.
The response's `X-Request-ID` is the id actually used. Writes get one log line each; reads
log only when they fail with a 5xx, so a busy reader does not flood the log.
"""

from __future__ import annotations

import time
from uuid import UUID, uuid4

import structlog
from starlette.types import Message, Receive, Scope, Send

from gateway.asgi import HttpMiddleware, header

log = structlog.get_logger("gateway.requests")
HEADER = b"x-request-id"
READS = frozenset({"GET", "HEAD", "OPTIONS"})


def correlation_from(raw: str | bytes | None) -> UUID:
    """The client's id when it is a UUID, else a new one."""
    if raw:
        try:
            return UUID(raw.decode("latin-1") if isinstance(raw, bytes) else raw)
        except ValueError:
            pass
    return uuid4()


class CorrelationId(HttpMiddleware):
    """Puts the id in `request.state.correlation_id` and in the structlog context of the
    request."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        correlation = correlation_from(header(scope, HEADER))
        scope.setdefault("state", {})["correlation_id"] = correlation
        value = str(correlation)
        id_header = (HEADER, value.encode())
        started = time.perf_counter()

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *(h for h in message.get("headers", ()) if h[0].lower() != HEADER),
                    id_header,
                ]
                status = message["status"]
                if scope["method"] not in READS or status >= 500:
                    route = scope.get("route")
                    (log.warning if status >= 500 else log.info)(
                        "request",
                        method=scope["method"],
                        route=getattr(route, "path", scope["path"]),
                        status=status,
                        ms=round((time.perf_counter() - started) * 1000, 1),
                    )
            await send(message)

        # bind/reset rather than `bound_contextvars`: the same effect with less work per request.
        bound = structlog.contextvars.bind_contextvars(correlation_id=value)
        try:
            await self.app(scope, receive, sending)
        finally:
            structlog.contextvars.reset_contextvars(**bound)
