"""Listens for GenerationCancelled on core NATS (every worker hears every cancel) and stops
the generation of that message in whichever process runs it.

A cancel that arrives before any worker picked the request up is not lost: the chat context
says `cancel_requested`, and the worker records the message as cancelled without generating.
`no_reply`: these are JetStream publishes whose reply subject is the relay's ack inbox.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import orjson
import structlog
from faststream.nats import NatsMessage, NatsRouter

from chat_worker.worker import Worker
from contracts.asyncapi import payload_of
from contracts.events import GenerationCancelled
from contracts.relayed import RelayedEvent
from contracts.subjects import CANCEL_FILTER

log = structlog.get_logger(__name__)


def build_router(worker: Worker) -> NatsRouter:
    router = NatsRouter()

    @router.subscriber(
        CANCEL_FILTER,
        no_reply=True,
        title="GenerationCancelled",
        description="Core NATS on the relayed events: every worker hears every cancel.",
    )
    @payload_of(RelayedEvent[GenerationCancelled])
    async def on_generation_cancelled(msg: NatsMessage, body: Any) -> None:
        # `body` is there for the AsyncAPI document; the raw bytes are parsed here.
        try:
            record = orjson.loads(msg.raw_message.data)
            message_id = UUID(record["data"]["message_id"])
        except (ValueError, KeyError, TypeError):
            log.warning("malformed GenerationCancelled ignored")
            return
        if worker.inflight.cancel(message_id):
            correlation = (record.get("metadata") or {}).get("correlation_id")
            log.info(
                "cancelling generation", message_id=str(message_id), correlation_id=correlation
            )

    return router
