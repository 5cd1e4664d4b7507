"""Consumes AssistantMessageRequested from EVENTS with the shared durable pull consumer.

Every worker process binds the same durable (`chat-worker`), so each request goes to one of
them. Acknowledgement is manual: `Answerer` acks only after the outcome is recorded. The
consumer's settings are provisioned explicitly in `streams` before the broker starts; this
subscriber only binds to it. `max_workers` answers run at once per process.
"""

from __future__ import annotations

from faststream.middlewares import AckPolicy
from faststream.nats import JStream, NatsMessage, NatsRouter, PullSub

from chat_worker.answer import Answerer
from chat_worker.streams import consumer_config
from chat_worker.worker import Worker
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
    )
    async def on_assistant_message_requested(msg: NatsMessage) -> None:
        await answerer.handle(msg)

    return router
