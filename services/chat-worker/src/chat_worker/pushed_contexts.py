"""Chat contexts the threads service pushed with PostChat, kept until their request arrives.

Every worker hears every push (`push.chat.context.*`); the one that gets the request takes
its context, and the others' copies expire. A push is used only for a request's first
delivery: it is the thread as of PostChat's commit, which a redelivery (whose first worker
may have answered already) must not trust. The same request published again (the relay
republishing after a crash) is dropped by EVENTS' duplicate window, which outlasts `ttl`.
A cancel recorded after the push is covered by `InFlight`, which remembers cancels heard for
answers not picked up yet. While NATS is away, pushes and cancels may be missed: everything
kept is forgotten on a disconnect, and the worker asks.

Kept as bytes, parsed only by the worker that takes one.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from uuid import UUID


class PushedContexts:
    def __init__(
        self, ttl: float, max_bytes: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.max_bytes = max_bytes
        self.clock = clock
        self._kept: OrderedDict[str, tuple[float, bytes]] = OrderedDict()  # oldest first
        self._bytes = 0

    def put(self, message_id: str, payload: bytes) -> None:
        if self.ttl <= 0 or len(payload) > self.max_bytes:
            return
        now = self.clock()
        self._drop(self._kept.pop(message_id, None))
        self._kept[message_id] = (now + self.ttl, payload)
        self._bytes += len(payload)
        while self._kept:
            expires, _ = next(iter(self._kept.values()))
            if expires > now and self._bytes <= self.max_bytes:
                break
            self._drop(self._kept.popitem(last=False)[1])

    def take(self, message_id: UUID) -> bytes | None:
        """The context pushed for this message, once; None if none arrived or it expired."""
        kept = self._kept.pop(str(message_id), None)
        self._drop(kept)
        if kept is None or kept[0] <= self.clock():
            return None
        return kept[1]

    async def forget_all(self) -> None:
        """NATS disconnected: what was pushed meanwhile (or cancelled) may be missed."""
        self._kept.clear()
        self._bytes = 0

    def _drop(self, kept: tuple[float, bytes] | None) -> None:
        if kept is not None:
            self._bytes -= len(kept[1])

    def __len__(self) -> int:
        return len(self._kept)
