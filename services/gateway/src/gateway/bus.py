"""The gateway's only way to the rest of the system: NATS request/reply.

The gateway talks nats-py directly rather than through FastStream: it only sends requests and
reads token streams, and the hot path should not pay for per-message framework parsing.

Replies are `contracts.replies.Reply`; an error reply becomes the HTTP status of its code. No
answer in time, no responders, or NATS down → 503 with Retry-After: the caller may retry with
the same Idempotency-Key and nothing is applied twice.
"""

from __future__ import annotations

from typing import Any

import orjson
import structlog
from fastapi import HTTPException
from nats.aio.client import Client as NATS
from nats.errors import ConnectionClosedError, NoRespondersError, OutboundBufferLimitError
from nats.errors import TimeoutError as NatsTimeoutError

from contracts.base import Command, Query
from contracts.errors import ErrorCode
from contracts.replies import Reply

log = structlog.get_logger(__name__)

STATUS = {
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.INVALID: 400,
    ErrorCode.CONFLICT: 409,
    ErrorCode.TOO_LARGE: 413,
    ErrorCode.UNAUTHORIZED: 401,
    ErrorCode.UNAVAILABLE: 503,
}
RETRY_AFTER = {"Retry-After": "2"}


def unavailable(detail: str = "Service temporarily unavailable") -> HTTPException:
    return HTTPException(503, detail, headers=RETRY_AFTER)


class Bus:
    def __init__(self, nc: NATS, timeout: float) -> None:
        self.nc = nc
        self.timeout = timeout

    async def ask(
        self, subject: str, message: Command | Query, timeout: float | None = None
    ) -> Reply:
        """Send and wait for the reply; transport failures raise 503."""
        if not self.nc.is_connected:
            raise unavailable("Message bus unavailable")
        try:
            msg = await self.nc.request(
                subject,
                message.model_dump_json().encode(),
                timeout=timeout or self.timeout,
                headers={"correlation_id": str(message.meta.correlation_id)},
            )
        except (NoRespondersError, NatsTimeoutError, TimeoutError) as exc:
            log.warning("no reply", subject=subject, error=type(exc).__name__)
            raise unavailable() from exc
        except (ConnectionClosedError, OutboundBufferLimitError, OSError) as exc:
            raise unavailable("Message bus unavailable") from exc
        return Reply.model_validate(orjson.loads(msg.data))

    async def call(
        self, subject: str, message: Command | Query, timeout: float | None = None
    ) -> dict[str, Any]:
        """`ask`, then turn an error reply into its HTTP status; returns the reply's data."""
        reply = await self.ask(subject, message, timeout)
        if not reply.ok:
            assert reply.error is not None
            status = STATUS.get(reply.error.code, 400)
            headers = RETRY_AFTER if status == 503 else None
            raise HTTPException(status, reply.error.detail, headers=headers)
        return reply.data or {}
