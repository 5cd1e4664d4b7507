"""The worker's way to the threads service: NATS request/reply with `contracts` messages.

Raw nats-py rather than the broker's `request`: the worker sends a handful of requests per
answer and wants the plain client's low overhead. Outcomes are recorded with retries under
one command id, so a retried record is answered with the first reply and never applied twice.
"""

from __future__ import annotations

import asyncio
from uuid import UUID

import orjson
import structlog
from nats.aio.client import Client as NATS
from nats.errors import ConnectionClosedError, NoRespondersError, OutboundBufferLimitError
from nats.errors import TimeoutError as NatsTimeoutError

from contracts import subjects
from contracts.base import Command, Envelope, Query
from contracts.errors import ErrorCode
from contracts.queries import GetChatContext, GetProviderCredentials
from contracts.replies import Reply
from contracts.views import ChatContextView, ProviderCredentialsView

log = structlog.get_logger(__name__)


class ThreadsUnavailable(Exception):
    """No answer from the threads service (down, overloaded, or NATS is)."""


class ThreadsClient:
    def __init__(self, nc: NATS, timeout: float) -> None:
        self.nc = nc
        self.timeout = timeout

    async def ask(self, subject: str, message: Command | Query) -> Reply:
        try:
            msg = await self.nc.request(
                subject,
                message.model_dump_json().encode(),
                timeout=self.timeout,
                headers={"correlation_id": str(message.meta.correlation_id)},
            )
        except (
            NoRespondersError,
            NatsTimeoutError,
            TimeoutError,
            ConnectionClosedError,
            OutboundBufferLimitError,
            OSError,
        ) as exc:
            raise ThreadsUnavailable(f"{subject}: {type(exc).__name__}") from exc
        return Reply.model_validate(orjson.loads(msg.data))

    async def chat_context(
        self,
        meta: Envelope,
        thread_id: UUID,
        message_id: UUID,
        *,
        credentials_for: str | None = None,
    ) -> ChatContextView | None:
        """None when the thread or message is gone (deleted while queued). With
        `credentials_for`, the view carries the user's own config for that provider."""
        reply = await self.ask(
            subjects.CHAT_CONTEXT,
            GetChatContext(
                meta=meta,
                thread_id=thread_id,
                message_id=message_id,
                credentials_for=credentials_for,
            ),
        )
        if reply.ok and reply.data is not None:
            return ChatContextView.model_validate(reply.data)
        if reply.error is not None and reply.error.code == ErrorCode.NOT_FOUND:
            return None
        raise ThreadsUnavailable(f"chat context: {reply.error.code if reply.error else '?'}")

    async def provider_credentials(
        self, meta: Envelope, provider: str
    ) -> ProviderCredentialsView | None:
        """The user's own config for `provider`; None when there is none, or nobody answers
        this query (the deployment's environment applies then)."""
        try:
            reply = await self.ask(
                subjects.PROVIDER_CREDENTIALS, GetProviderCredentials(meta=meta, provider=provider)
            )
        except ThreadsUnavailable:
            return None
        if reply.ok and reply.data is not None:
            return ProviderCredentialsView.model_validate(reply.data)
        return None

    async def record(self, subject: str, command: Command, *, attempts: int = 8) -> Reply:
        """Send until the threads service answers with anything but `unavailable`."""
        delay = 0.2
        for attempt in range(1, attempts + 1):
            try:
                reply = await self.ask(subject, command)
                if reply.ok or reply.error is None or reply.error.code != ErrorCode.UNAVAILABLE:
                    return reply
            except ThreadsUnavailable as exc:
                log.warning("recording outcome failed, retrying", attempt=attempt, error=str(exc))
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
        raise ThreadsUnavailable(f"{subject}: gave up after {attempts} attempts")
