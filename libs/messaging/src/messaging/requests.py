"""Sending a contract request and reading its reply: one way for every service.

The subject comes from the request's class, the correlation id rides in a header beside the
envelope, and every way of getting no answer (no responder, a timeout, a closed or congested
connection) is one `NoAnswer`, which each caller maps to its own failure (an HTTP 503 in the
gateway, a redelivery in the chat worker).
"""

from __future__ import annotations

import functools
from typing import Any, TypeVar, cast

import orjson
from nats.aio.client import Client as NATS
from nats.errors import ConnectionClosedError, NoRespondersError, OutboundBufferLimitError
from nats.errors import TimeoutError as NatsTimeoutError
from pydantic import BaseModel, create_model

from contracts.base import Request
from contracts.replies import Reply

R = TypeVar("R", bound=BaseModel)


class NoAnswer(Exception):
    """Nobody answered `subject`; `disconnected` when the connection itself is the cause."""

    def __init__(self, subject: str, reason: str, *, disconnected: bool) -> None:
        super().__init__(f"{subject}: {reason}")
        self.subject = subject
        self.disconnected = disconnected


async def send(nc: NATS, request: Request[Any], timeout: float) -> bytes:
    """The request sent on its subject; the reply's bytes."""
    subject = request.subject
    if not nc.is_connected:
        raise NoAnswer(subject, "not connected", disconnected=True)
    try:
        msg = await nc.request(
            subject,
            request.model_dump_json().encode(),
            timeout=timeout,
            headers={"correlation_id": str(request.meta.correlation_id)},
        )
    except (NoRespondersError, NatsTimeoutError, TimeoutError) as exc:
        raise NoAnswer(subject, type(exc).__name__, disconnected=False) from exc
    except (ConnectionClosedError, OutboundBufferLimitError, OSError) as exc:
        raise NoAnswer(subject, type(exc).__name__, disconnected=True) from exc
    return msg.data


def read_reply(data: bytes) -> Reply:
    """A reply, its `data` as plain JSON values."""
    return Reply.model_validate(orjson.loads(data))


def read_reply_for(request: Request[R], data: bytes) -> tuple[Reply, R | None]:
    """A reply and, when it succeeded, its `data` as the request's reply model: validated
    straight from the bytes in one pass (no Python copy of a large reply first)."""
    model = request.reply_model()
    reply = typed_reply(model).model_validate_json(data)
    if not reply.ok:
        return reply, None
    view = reply.data if reply.data is not None else model.model_validate({})
    return reply, cast(R, view)


async def ask(nc: NATS, request: Request[Any], timeout: float) -> Reply:
    return read_reply(await send(nc, request, timeout))


async def ask_for(nc: NATS, request: Request[R], timeout: float) -> tuple[Reply, R | None]:
    return read_reply_for(request, await send(nc, request, timeout))


@functools.cache
def typed_reply(model: type[BaseModel]) -> type[Reply]:
    """`Reply` whose `data` is `model`."""
    data: Any = model | None
    return create_model(f"{model.__name__}Reply", __base__=Reply, data=(data, None))


def reply_model_of(request: Request[R], data: dict[str, Any] | None) -> R:
    """A successful reply's data as the request's reply model."""
    return cast(R, request.reply_model().model_validate(data or {}))
