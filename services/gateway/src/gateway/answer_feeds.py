"""One subscription per answer per gateway, shared by every reader of that answer here.

A reader per ordered consumer made a burst of readers a burst of JetStream consumer creations
(each an API request the server answers in turn, plus its flow control and heartbeats ever
after), and every token was delivered, and parsed, once per reader. A feed is one ordered
consumer on one answer's subject, from its first event: it keeps the events it has seen
(`seq`, bytes) and hands each to the readers joined to it. A reader that joins late, or
resumes after a `Last-Event-ID`, first takes what the feed already holds after that id, in
the same step as joining, so it misses nothing and gets nothing twice; then it gets the events
as they come. Readers opening one answer at once share the one subscription being made.

A feed lives while it has readers, and `LINGER` seconds after the last one leaves (a
reconnect finds it still there); then its consumer goes. The events it holds are one answer's
tokens.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from typing import Any, Protocol

from nats.aio.msg import Msg
from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from contracts.subjects import TOKENS_STREAM

INACTIVE_THRESHOLD = 5.0  # seconds the server keeps a consumer nobody listens to any more
LINGER = 10.0  # seconds a feed outlives its last reader


class Listener(Protocol):
    def deliver(self, seq: int, raw: bytes) -> None: ...


class AnswerFeed:
    def __init__(self, feeds: Feeds, subject: str) -> None:
        self.feeds = feeds
        self.subject = subject
        self.events: list[tuple[int, bytes]] = []
        self.readers: set[Listener] = set()
        self._sub: Any = None
        self._opening: asyncio.Future[bool] | None = None
        self._closing: asyncio.TimerHandle | None = None

    async def open(self) -> bool:
        """Subscribed (now or before); False if TOKENS does not exist (yet) or NATS is busy:
        the caller tries again."""
        if self._sub is not None:
            return True
        if self._opening is None:
            self._opening = asyncio.ensure_future(self._subscribe())
        opening = self._opening
        ok = await asyncio.shield(opening)
        if not ok and self._opening is opening:
            self._opening = None  # the next reader tries again
        return ok

    async def _subscribe(self) -> bool:
        try:
            self._sub = await self.feeds.js.subscribe(
                self.subject,
                stream=TOKENS_STREAM,
                cb=self._on_msg,
                ordered_consumer=True,
                config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL),
                inactive_threshold=INACTIVE_THRESHOLD,
            )
        except (NotFoundError, NatsError, TimeoutError, OSError):
            return False
        return True

    async def _on_msg(self, msg: Msg) -> None:
        # The stream sequence from the reply subject, as nats-py's ordered consumer reads it
        # (`msg.metadata` would also parse a timestamp into a datetime: too slow per chunk).
        seq = int(Msg.Metadata._get_metadata_fields(msg.reply)[5])
        raw = msg.data
        self.events.append((seq, raw))
        for reader in tuple(self.readers):
            reader.deliver(seq, raw)

    def join(self, reader: Listener, after: int | None) -> None:
        """What the feed holds after `after` (all of it for None), then every new event."""
        if self._closing is not None:
            self._closing.cancel()
            self._closing = None
        for seq, raw in self.events:
            if after is None or seq > after:
                reader.deliver(seq, raw)
        self.readers.add(reader)

    def leave(self, reader: Listener) -> None:
        self.readers.discard(reader)
        if not self.readers and self._closing is None:
            loop = asyncio.get_running_loop()
            self._closing = loop.call_later(LINGER, self._close_if_unused)

    def _close_if_unused(self) -> None:
        self._closing = None
        if not self.readers:
            self.feeds.forget(self)
            task = asyncio.ensure_future(self.close())
            self.feeds.closing.add(task)
            task.add_done_callback(self.feeds.closing.discard)

    async def close(self) -> None:
        sub, self._sub = self._sub, None
        if self._closing is not None:
            self._closing.cancel()
            self._closing = None
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


class Feeds:
    """This gateway's feeds, by subject, on one JetStream context."""

    def __init__(self, js: JetStreamContext) -> None:
        self.js = js
        self._feeds: dict[str, AnswerFeed] = {}
        self.closing: set[asyncio.Future[None]] = set()

    def feed(self, subject: str) -> AnswerFeed:
        found = self._feeds.get(subject)
        if found is None:
            found = self._feeds[subject] = AnswerFeed(self, subject)
        return found

    def forget(self, feed: AnswerFeed) -> None:
        if self._feeds.get(feed.subject) is feed:
            del self._feeds[feed.subject]

    def __len__(self) -> int:
        return len(self._feeds)


_FEEDS: weakref.WeakKeyDictionary[JetStreamContext, Feeds] = weakref.WeakKeyDictionary()


def feeds_of(js: JetStreamContext) -> Feeds:
    """The feeds of this JetStream context (the gateway's one, see `api.chat.jetstream`)."""
    found = _FEEDS.get(js)
    if found is None:
        found = _FEEDS[js] = Feeds(js)
    return found
