"""The gateway's only way to the rest of the system: NATS request/reply.

The gateway talks nats-py directly rather than through FastStream: it only sends requests and
reads token streams, and the hot path should not pay for per-message framework parsing.

Every request names its subject and its reply model (`contracts.base.Request`): `call` returns
that model, `call_raw` the reply's data unvalidated, for the paths that only pass it on. An
error reply becomes the HTTP status of its code. No answer in time, no responders, or NATS
down → 503 with Retry-After: the caller may retry with the same Idempotency-Key and nothing
is applied twice.
"""

from __future__ import annotations

from typing import Any, TypeVar

import structlog
from fastapi import HTTPException
from nats.aio.client import Client as NATS
from pydantic import BaseModel

from contracts.base import Request
from contracts.errors import ErrorCode
from contracts.replies import Reply
from messaging.requests import NoAnswer, read_reply, read_reply_for, reply_model_of, send

log = structlog.get_logger(__name__)
R = TypeVar("R", bound=BaseModel)

STATUS = {
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.INVALID: 400,
    ErrorCode.CONFLICT: 409,
    ErrorCode.TOO_LARGE: 413,
    ErrorCode.UNAUTHORIZED: 401,
    ErrorCode.UNAVAILABLE: 503,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.QUOTA_EXCEEDED: 429,
}
RETRY_AFTER = {"Retry-After": "2"}
CODED = frozenset({ErrorCode.QUOTA_EXCEEDED})  # errors whose body names their code too


class CodedError(HTTPException):
    """An error answered as `{"detail": ..., "code": ...}` (see `main.on_http_error`)."""

    def __init__(
        self, status: int, detail: str, code: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(status, detail, headers=headers)
        self.code = code


def unavailable(detail: str = "Service temporarily unavailable") -> HTTPException:
    return HTTPException(503, detail, headers=RETRY_AFTER)


def reply_data(reply: Reply) -> dict[str, Any]:
    """A successful reply's data; an error reply raises its HTTP status."""
    if not reply.ok:
        assert reply.error is not None
        error = reply.error
        status = STATUS.get(error.code, 400)
        headers = RETRY_AFTER if status == 503 else None
        if error.retry_after is not None:
            headers = {"Retry-After": str(error.retry_after)}
        if error.code in CODED:
            raise CodedError(status, error.detail, error.code.value, headers)
        raise HTTPException(status, error.detail, headers=headers)
    return reply.data or {}


def _unanswered(exc: NoAnswer) -> HTTPException:
    if exc.disconnected:
        return unavailable("Message bus unavailable")
    log.warning("no reply", subject=exc.subject, error=str(exc))
    return unavailable()


def reply_of(request: Request[R], reply: Reply) -> R:
    """A successful reply as the request's reply model; an error reply raises its status."""
    return reply_model_of(request, reply_data(reply))


class Bus:
    def __init__(self, nc: NATS, timeout: float) -> None:
        self.nc = nc
        self.timeout = timeout

    async def exchange(self, request: Request[Any], timeout: float | None = None) -> bytes:
        """The transport: the request sent on its subject, the reply's bytes; no answer
        raises 503."""
        try:
            return await send(self.nc, request, timeout or self.timeout)
        except NoAnswer as exc:
            raise _unanswered(exc) from exc

    async def ask(self, request: Request[Any], timeout: float | None = None) -> Reply:
        """The reply, its data as plain JSON values."""
        return read_reply(await self.exchange(request, timeout))

    async def call(self, request: Request[R], timeout: float | None = None) -> R:
        """The reply as the request's reply model (errors as HTTP statuses), validated from
        the reply's bytes in one pass."""
        reply, data = read_reply_for(request, await self.exchange(request, timeout))
        if data is None:
            reply_data(reply)  # an error reply: raises its status
            raise unavailable()  # (a successful reply always has its data)
        return data

    async def call_raw(self, request: Request[Any], timeout: float | None = None) -> dict[str, Any]:
        """`call` without validating the reply: for paths that pass the data on as it is."""
        return reply_data(await self.ask(request, timeout))
