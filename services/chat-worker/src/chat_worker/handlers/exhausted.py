"""Fails the answers whose request ran out of deliveries (`WORKER_MAX_DELIVER`) unanswered.

Every delivery of such a request ended without an outcome: its workers died mid-answer, or
could not reach the threads service. JetStream then stops redelivering and says so once, on
the MAX_DELIVERIES advisory. One worker (a queue group) hears it, reads the request back from
EVENTS by its sequence and records the answer as failed (`provider_unavailable`), so its
stream ends with `error` instead of leaving every reader waiting on a message that stays
`streaming`. An answer that did get an outcome meanwhile keeps it (the threads service refuses
a second one). The advisory is not stored: if no worker hears it, the answer stays unfinished.
"""

from __future__ import annotations

from typing import Any

import orjson
import structlog
from faststream.nats import NatsBroker
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from chat_worker.answer import Answerer
from chat_worker.worker import Worker
from contracts.subjects import EVENTS_STREAM, REQUEST_EXHAUSTED_ADVISORY

log = structlog.get_logger(__name__)
QUEUE = "chat-worker-exhausted"  # one worker per advisory


async def subscribe(worker: Worker) -> Subscription:
    answerer = Answerer(worker)

    async def on_advisory(msg: Msg) -> None:
        try:
            seq = int(orjson.loads(msg.data)["stream_seq"])
        except (ValueError, KeyError, TypeError):
            log.warning("malformed max-deliveries advisory ignored")
            return
        try:
            stored = await worker.js.get_msg(EVENTS_STREAM, seq)
        except Exception as exc:  # gone, or NATS away: nothing to do
            log.warning("exhausted request not readable", seq=seq, error=type(exc).__name__)
            return
        if stored.data is not None:
            await answerer.give_up(stored.data)

    return await worker.nc.subscribe(REQUEST_EXHAUSTED_ADVISORY, queue=QUEUE, cb=on_advisory)


def document(broker: NatsBroker) -> None:
    """Declares the subscription on `broker` for the AsyncAPI document only (never started)."""

    @broker.subscriber(
        REQUEST_EXHAUSTED_ADVISORY,
        queue=QUEUE,
        no_reply=True,
        title="RequestDeliveriesExhausted",
        description="JetStream's MAX_DELIVERIES advisory for the `chat-worker` consumer: the "
        "answer is recorded as failed (provider_unavailable).",
    )
    async def on_request_exhausted(body: dict[str, Any]) -> None:
        raise NotImplementedError  # documentation only: `subscribe` reads these
