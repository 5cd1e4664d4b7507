"""What the gateway's pure ASGI middlewares share: HTTP requests only (lifespan and anything
else pass straight through), and reading one request header from the scope without building
a Request. They stay pure ASGI so streamed answers pass through them untouched."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send


def header(scope: Scope, name: bytes) -> bytes | None:
    """The first value of header `name` (lower case, as ASGI gives names), or None."""
    for key, value in scope.get("headers", ()):
        if key == name:
            return value  # type: ignore[no-any-return]
    return None


class HttpMiddleware:
    """`handle` sees every HTTP request; any other scope goes on to the app unseen."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.handle(scope, receive, send)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError
