"""A limit on the size of every request body: over `max_body_bytes` answers 413 (`{"detail"}`,
or OpenAI's error shape under /v1), before the body is parsed or anything is sent over NATS.

A declared Content-Length over the limit is refused without parsing the body. A chunked body
(no Content-Length) is counted as it arrives and refused as soon as it passes the limit; the
exception raised from `receive` is an HTTPException, so FastAPI's body reading lets it through
and its exception handler answers 413.

Before answering, the rest of the body is read and dropped (up to `drain_bytes`): a client
still sending when the server closes the connection gets a reset instead of the 413. Bodies
beyond that are cut off without ceremony.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.asgi import HttpMiddleware, header
from gateway.v1_wire import error_response


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"Request body is over the {limit} byte limit")


class BodySizeLimit(HttpMiddleware):
    """No buffering: streaming responses are untouched."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        drain_bytes: int | None = None,
        larger: dict[str, int] | None = None,
    ) -> None:
        super().__init__(app)
        self.max_bytes = max_bytes
        self.larger = larger or {}  # path -> its own limit (an import file)
        self.drain_bytes = drain_bytes if drain_bytes is not None else 4 * max_bytes

    def _declared_length(self, scope: Scope) -> int | None:
        try:
            return int(header(scope, b"content-length") or b"")
        except ValueError:
            return None

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.larger.get(scope["path"], self.max_bytes)
        declared = self._declared_length(scope)
        if declared is not None and declared > limit:
            if declared <= self.drain_bytes:
                await self._drain(receive, 0)
            await self._refuse(scope, receive, send, limit)
            return

        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    if message.get("more_body", False):
                        await self._drain(receive, received)
                    raise BodyTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send, limit)

    async def _drain(self, receive: Receive, received: int) -> None:
        """Read and drop what is left of the body, up to `drain_bytes` in all."""
        while received <= self.drain_bytes:
            message = await receive()
            if message["type"] != "http.request":
                return
            received += len(message.get("body", b""))
            if not message.get("more_body", False):
                return

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        error = BodyTooLarge(limit)
        response = error_response(scope["path"], 413, error.detail, {"Connection": "close"})
        await response(scope, receive, send)
