"""Reads one message's token events from the JetStream stream TOKENS with an ordered consumer.

An ordered consumer is ephemeral, flow-controlled and self-healing: it detects a gap and
recreates itself from the last sequence it delivered, so a reader gets every event exactly
once, in order. It starts at the beginning of the message's subject, or right after the
client's `Last-Event-ID` (ids are stream sequences). Each event is rendered in the
subscription's callback and queued as SSE bytes; the HTTP response drains the queue. This is
the gateway's per-chunk path: no pydantic, no task or timer per chunk beyond one wait.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable
from typing import Any
from uuid import UUID

from nats.aio.msg import Msg
from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from contracts.subjects import TOKENS_STREAM, tokens_subject

Render = Callable[[int, bytes], bytes]
INACTIVE_THRESHOLD = 5.0  # seconds the server keeps a consumer nobody listens to any more


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


class AnswerStreamReader:
    def __init__(
        self,
        js: JetStreamContext,
        thread_id: UUID,
        message_id: UUID,
        render: Render,
        *,
        after: int | None = None,
    ) -> None:
        self.js = js
        self.subject = tokens_subject(thread_id, message_id)
        self.render = render
        self.after = after
        self._ready: deque[bytes] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._sub: Any = None

    async def open(self) -> bool:
        """Subscribe; False if the TOKENS stream does not exist (yet)."""
        if self._sub is not None:
            return True
        if self.after is not None:
            config = ConsumerConfig(
                deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=self.after + 1
            )
        else:
            config = ConsumerConfig(deliver_policy=DeliverPolicy.ALL)
        try:
            self._sub = await self.js.subscribe(
                self.subject,
                stream=TOKENS_STREAM,
                cb=self._on_msg,
                ordered_consumer=True,
                config=config,
                inactive_threshold=INACTIVE_THRESHOLD,
            )
        except (NotFoundError, NatsError, TimeoutError, OSError):
            return False  # no stream yet, or NATS is busy: the caller retries
        return True

    async def _on_msg(self, msg: Msg) -> None:
        # The stream sequence from the reply subject, as nats-py's ordered consumer reads it
        # (`msg.metadata` would also parse a timestamp into a datetime: too slow per chunk).
        seq = int(Msg.Metadata._get_metadata_fields(msg.reply)[5])
        data = self.render(seq, msg.data)
        if data:
            self._ready.append(data)
            waiter = self._waiter
            if waiter is not None and not waiter.done():
                waiter.set_result(None)

    @property
    def pending(self) -> bool:
        """Rendered events not yet taken by `next`."""
        return bool(self._ready)

    async def next(self, timeout: float) -> bytes | None:
        """Everything queued so far as one chunk (fewer writes under load), or None after
        `timeout` seconds without any. One future and one timer per wait, no task."""
        ready = self._ready
        if not ready:
            loop = asyncio.get_running_loop()
            waiter = self._waiter = loop.create_future()
            timer = loop.call_later(timeout, _wake, waiter)
            try:
                await waiter
            finally:
                timer.cancel()
                self._waiter = None
            if not ready:
                return None
        if len(ready) == 1:
            return ready.popleft()
        data = b"".join(ready)
        ready.clear()
        return data

    async def close(self) -> None:
        sub, self._sub = self._sub, None
        if sub is None:
            return
        try:
            await sub.unsubscribe()
        except Exception:
            # Connection closed or draining: stop the consumer's helper tasks ourselves.
            jsi = getattr(getattr(sub, "_sub", None), "_jsi", None)
            for task in (getattr(jsi, "_hbtask", None), getattr(jsi, "_fctask", None)):
                if task is not None:
                    task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.sleep(0)
