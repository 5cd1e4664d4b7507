"""One queue in front of the database for every message the service handles.

Each subscription takes messages freely; a handler then waits here for one of a fixed number
of slots (a small multiple of the database connections). Waiters are admitted first come
first served, so under overload every request waits about as long (with a cap per
subscription, the busiest subject's requests would wait out the gateway's timeout while others
ran). Work
already under way goes ahead of new requests: a chat worker asking for an answer's context
or recording its outcome is finishing a chat that a client is watching.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class Admission:
    def __init__(self, slots: int) -> None:
        self._free = slots
        self._urgent: deque[asyncio.Future[None]] = deque()
        self._normal: deque[asyncio.Future[None]] = deque()

    @asynccontextmanager
    async def slot(self, *, urgent: bool = False) -> AsyncIterator[None]:
        if self._free > 0 and not self._urgent and not self._normal:
            self._free -= 1
        else:
            waiter = asyncio.get_running_loop().create_future()
            (self._urgent if urgent else self._normal).append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    self._release()  # handed a slot as it was cancelled: pass it on
                raise
        try:
            yield
        finally:
            self._release()

    def _release(self) -> None:
        for waiters in (self._urgent, self._normal):
            while waiters:
                waiter = waiters.popleft()
                if not waiter.done():  # a cancelled waiter is done: skip it
                    waiter.set_result(None)
                    return
        self._free += 1
