"""The worker's way to the threads service: `call(request)` sends a `contracts` command or query
on its own subject and returns its own reply model.

Plain nats-py requests: the worker sends a handful per answer, on the way to the first token
and to every outcome. Outcomes are recorded with `call_until_answered`, retrying under one
command id, so a retried record is answered with the first reply and never applied twice.
"""

from __future__ import annotations

import asyncio
from typing import TypeVar

import structlog
from nats.aio.client import Client as NATS
from pydantic import BaseModel

from contracts.base import Request
from contracts.errors import ErrorCode
from messaging.requests import NoAnswer, ask_for

log = structlog.get_logger(__name__)
R = TypeVar("R", bound=BaseModel)


class ThreadsUnavailable(Exception):
    """No answer from the threads service (down, overloaded, or NATS is)."""


class Refused(Exception):
    """The threads service answered with an error (`code`, `detail`) other than `unavailable`."""

    def __init__(self, code: ErrorCode, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


class ThreadsClient:
    def __init__(self, nc: NATS, timeout: float) -> None:
        self.nc = nc
        self.timeout = timeout

    async def call(self, request: Request[R]) -> R:
        """The reply's `data` as the request's reply model; raises `Refused` for an error
        reply and `ThreadsUnavailable` when nobody answers (or the answer is `unavailable`)."""
        try:
            reply, data = await ask_for(self.nc, request, self.timeout)
        except NoAnswer as exc:
            raise ThreadsUnavailable(str(exc)) from exc
        if data is None:
            if reply.error is None:
                raise ThreadsUnavailable(f"{request.subject}: an error reply without an error")
            if reply.error.code == ErrorCode.UNAVAILABLE:
                raise ThreadsUnavailable(f"{request.subject}: {reply.error.detail}")
            raise Refused(reply.error.code, reply.error.detail)
        return data

    async def call_until_answered(self, request: Request[R], *, attempts: int = 8) -> R:
        """`call`, again while the threads service does not answer; `Refused` passes through."""
        delay = 0.2
        for attempt in range(1, attempts + 1):
            try:
                return await self.call(request)
            except ThreadsUnavailable as exc:
                log.warning("recording outcome failed, retrying", attempt=attempt, error=str(exc))
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
        raise ThreadsUnavailable(f"{request.subject}: gave up after {attempts} attempts")
