"""Reads one message's token events from the JetStream stream TOKENS, through this gateway's
feed of that answer (`gateway.answer_feeds`: one ordered consumer per answer, shared by every
reader here).

An ordered consumer is ephemeral, flow-controlled and self-healing: it detects a gap and
recreates itself from the last sequence it delivered, so a reader gets every event exactly
once, in order. A reader starts at the beginning of the message's subject, or right after the
client's `Last-Event-ID` (ids are stream sequences). Each event is rendered as the feed hands
it over and queued as SSE bytes; the HTTP response drains the queue. This is the gateway's
per-chunk path: no pydantic, no task or timer per chunk beyond one wait.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from uuid import UUID

from nats.js import JetStreamContext

from contracts.subjects import tokens_subject
from gateway.answer_feeds import AnswerFeed, feeds_of

Render = Callable[[int, bytes], bytes]


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
        held: bool = False,
    ) -> None:
        self.js = js
        self.subject = tokens_subject(thread_id, message_id)
        self.render = render
        self.after = after
        # `held`: events are kept unrendered until `release`, for a renderer still waiting
        # for what the command's reply tells it (the reply and the first token race).
        self._held: list[tuple[int, bytes]] | None = [] if held else None
        self._ready: deque[bytes] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._feed: AnswerFeed | None = None

    async def open(self) -> bool:
        """Join the answer's feed; False if the TOKENS stream does not exist (yet)."""
        if self._feed is not None:
            return True
        feeds = feeds_of(self.js)
        feed = feeds.feed(self.subject)
        if not await feed.open():
            if not feed.readers:
                feeds.forget(feed)
            return False  # no stream yet, or NATS is busy: the caller retries
        if self._feed is None:
            self._feed = feed
            feed.join(self, self.after)
        return True

    def deliver(self, seq: int, raw: bytes) -> None:
        if self.after is not None and seq <= self.after:
            return
        if self._held is not None:
            self._held.append((seq, raw))
            return
        data = self.render(seq, raw)
        if data:
            self._ready.append(data)
            waiter = self._waiter
            if waiter is not None and not waiter.done():
                waiter.set_result(None)

    def release(self) -> None:
        """Renders what arrived while held, in order, then each event as it comes."""
        held, self._held = self._held, None
        for seq, raw in held or ():
            self.deliver(seq, raw)

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
        feed, self._feed = self._feed, None
        if feed is not None:
            feed.leave(self)
