"""Listens for GenerationCancelled on core NATS (every worker hears every cancel) and stops
the generation of that message in whichever process runs it.

A cancel that arrives before any worker picked the request up is not lost: the chat context
says `cancel_requested`, and the worker records the message as cancelled without generating.
`no_reply`: these are JetStream publishes whose reply subject is the relay's ack inbox.
"""

from __future__ import annotations

from uuid import UUID

import orjson
import structlog
from faststream.nats import NatsMessage, NatsRouter

from chat_worker.worker import Worker
from contracts.subjects import CANCEL_FILTER

log = structlog.get_logger(__name__)


def build_router(worker: Worker) -> NatsRouter:
    router = NatsRouter()

    @router.subscriber(CANCEL_FILTER, no_reply=True, title="GenerationCancelled")
    async def on_generation_cancelled(msg: NatsMessage) -> None:
        try:
            message_id = UUID(orjson.loads(msg.raw_message.data)["data"]["message_id"])
        except (ValueError, KeyError, TypeError):
            log.warning("malformed GenerationCancelled ignored")
            return
        if worker.inflight.cancel(message_id):
            log.info("cancelling generation", message_id=str(message_id))

    return router
