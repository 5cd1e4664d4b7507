"""Consumes AssistantMessageRequested from EVENTS with the shared durable pull consumer.

Every worker process binds the same durable (`chat-worker`), so each request goes to one of
them. Acknowledgement is manual: `Answerer` acks only after the outcome is recorded. The
consumer's settings are provisioned explicitly in `streams` before the broker starts; this
subscriber only binds to it. `max_workers` answers run at once per process.
"""

from __future__ import annotations

from typing import Any

from faststream.middlewares import AckPolicy
from faststream.nats import JStream, NatsMessage, NatsRouter, PullSub

from chat_worker.answer import Answerer
from chat_worker.streams import consumer_config
from chat_worker.worker import Worker
from contracts.asyncapi import payload_of
from contracts.events import AssistantMessageRequested
from contracts.relayed import RelayedEvent
from contracts.subjects import ASSISTANT_REQUESTED_FILTER, CHAT_WORKER_DURABLE, EVENTS_STREAM


def build_router(worker: Worker) -> NatsRouter:
    router = NatsRouter()
    answerer = Answerer(worker)

    @router.subscriber(  # type: ignore[call-overload]
        ASSISTANT_REQUESTED_FILTER,
        stream=JStream(EVENTS_STREAM, declare=False),
        durable=CHAT_WORKER_DURABLE,
        config=consumer_config(worker.settings),
        pull_sub=PullSub(batch_size=1, timeout=5.0),
        ack_policy=AckPolicy.MANUAL,
        max_workers=worker.settings.concurrency,
        title="AssistantMessageRequested",
        description="JetStream: the durable pull consumer `chat-worker` on EVENTS, shared by "
        "every worker; acknowledged once the answer's outcome is recorded.",
    )
    @payload_of(RelayedEvent[AssistantMessageRequested])
    async def on_assistant_message_requested(msg: NatsMessage, body: Any) -> None:
        # `body` is there for the AsyncAPI document; the answerer parses the raw bytes itself.
        await answerer.handle(msg)

    return router
