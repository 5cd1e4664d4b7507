"""Reads AssistantMessageRequested from EVENTS with the shared durable pull consumer.

Every worker process binds the same durable (`chat-worker`), so each request goes to one of
them. Acknowledgement is manual: `Answerer` acks only after the outcome is recorded. The
consumer's settings are provisioned explicitly (`streams`) before this binds to it. At most
`concurrency` answers run at once per process: a request is fetched only when a slot is free,
so the others stay with the server for the other workers. A bare nats-py fetch loop: each
request is on the way to a first token, so it pays for no framework pipeline.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext

from chat_worker.answering.answerer import Answerer
from contracts.subjects import CHAT_WORKER_DURABLE, EVENTS_STREAM

log = structlog.get_logger(__name__)
FETCH_WAIT = 5.0  # seconds one pull request waits on the server before it is renewed


class RequestConsumer:
    """Fetches one request at a time while a slot is free, and answers each in its own task."""

    def __init__(self, answerer: Answerer, js: JetStreamContext, concurrency: int) -> None:
        self.answerer = answerer
        self.js = js
        self.slots = asyncio.Semaphore(concurrency)
        self.answering: set[asyncio.Task[None]] = set()
        self._loop: asyncio.Task[None] | None = None
        self._sub: JetStreamContext.PullSubscription | None = None

    async def start(self, nc: NATS) -> None:
        """Binds through the worker's JetStream context (on `nc`)."""
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
