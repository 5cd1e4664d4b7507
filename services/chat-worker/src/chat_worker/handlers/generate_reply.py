"""Consumes AssistantMessageRequested from EVENTS with the shared durable pull consumer.

Every worker process binds the same durable (`chat-worker`), so each request goes to one of
them. Acknowledgement is manual: `Answerer` acks only after the outcome is recorded. The
consumer's settings are provisioned explicitly in `streams` before this binds to it. At most
`concurrency` answers run at once per process: a request is fetched only when a slot is free,
so the others stay with the server for the other workers.

The loop is plain nats-py rather than a FastStream subscriber: a request is on the way to the
first token, and FastStream's per-message pipeline (task group, in-memory queue, argument
resolution) cost ~1.7 ms per delivery on this path against ~0.2 ms for a bare fetch. `document`
describes the consumer to the AsyncAPI document, as FastStream would.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import structlog
from faststream.middlewares import AckPolicy
from faststream.nats import JStream, NatsBroker, PullSub
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext

from chat_worker.answer import Answerer
from chat_worker.streams import consumer_config
from chat_worker.worker import Worker
from contracts.asyncapi import payload_of
from contracts.events import AssistantMessageRequested
from contracts.relayed import RelayedEvent
from contracts.subjects import ASSISTANT_REQUESTED_FILTER, CHAT_WORKER_DURABLE, EVENTS_STREAM

log = structlog.get_logger(__name__)
FETCH_WAIT = 5.0  # seconds one pull request waits on the server before it is renewed


class RequestConsumer:
    """Fetches one request at a time while a slot is free, and answers each in its own task."""

    def __init__(self, worker: Worker, js: JetStreamContext) -> None:
        self.js = js
        self.answerer = Answerer(worker)
        self.slots = asyncio.Semaphore(worker.settings.concurrency)
        self.answering: set[asyncio.Task[None]] = set()
        self._loop: asyncio.Task[None] | None = None
        self._sub: JetStreamContext.PullSubscription | None = None

    async def start(self) -> None:
        sub = await self.js.pull_subscribe_bind(durable=CHAT_WORKER_DURABLE, stream=EVENTS_STREAM)
        self._sub = sub
        self._loop = asyncio.create_task(self._fetch_forever(sub), name="request-consumer")

    async def _fetch_forever(self, sub: JetStreamContext.PullSubscription) -> None:
        while True:
            await self.slots.acquire()
            try:
                msgs = await sub.fetch(1, timeout=FETCH_WAIT)
            except (NatsTimeoutError, TimeoutError):
                self.slots.release()
                continue
            except asyncio.CancelledError:
                self.slots.release()
                raise
            except Exception as exc:  # NATS reconnecting, or closing: try again shortly
                self.slots.release()
                log.warning("fetching requests failed", error=type(exc).__name__)
                await asyncio.sleep(0.5)
                continue
            for msg in msgs:
                task = asyncio.create_task(self._answer(msg))
                self.answering.add(task)
                task.add_done_callback(self.answering.discard)
            if not msgs:
                self.slots.release()

    async def _answer(self, msg: Msg) -> None:
        try:
            await self.answerer.handle(msg)
        except asyncio.CancelledError:
            # Stopping mid-answer: hand the request back at once, for another worker.
            with contextlib.suppress(Exception):
                await msg.nak()
            raise
        except Exception:
            log.exception("answering a request failed")
        finally:
            self.slots.release()

    async def stop(self) -> None:
        """Stop fetching; answers still running are cancelled and handed back. The pull
        subscription goes too: a status the server sends it later (a pull request expiring)
        would sit in its queue with nobody to take it, and draining the connection would
        wait for that queue until its timeout."""
        tasks = [t for t in (self._loop, *self.answering) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()


def document(broker: NatsBroker, worker: Worker) -> None:
    """Declares the consumer on `broker` for the AsyncAPI document only (never started)."""

    @broker.subscriber(  # type: ignore[call-overload]
        ASSISTANT_REQUESTED_FILTER,
        stream=JStream(EVENTS_STREAM, declare=False),
        durable=CHAT_WORKER_DURABLE,
        config=consumer_config(worker.settings),
        pull_sub=PullSub(batch_size=1, timeout=FETCH_WAIT),
        ack_policy=AckPolicy.MANUAL,
        max_workers=worker.settings.concurrency,
        title="AssistantMessageRequested",
        description="JetStream: the durable pull consumer `chat-worker` on EVENTS, shared by "
        "every worker; acknowledged once the answer's outcome is recorded.",
    )
    @payload_of(RelayedEvent[AssistantMessageRequested])
    async def on_assistant_message_requested(body: Any) -> None:
        raise NotImplementedError  # documentation only: RequestConsumer reads this consumer
