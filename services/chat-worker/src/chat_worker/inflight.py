"""The answers this process is generating now, so a cancel request can reach the right one.

A cancel is cooperative: the generation loop sees the flag (and a wake-up in its queue) and
stops between two deltas, so what was published is exactly what gets stored.
"""

from __future__ import annotations

import asyncio
from uuid import UUID

WAKE = object()  # put in the generation's queue to make it look at the flag at once


class CancelHandle:
    def __init__(self) -> None:
        self.requested = False
        self.event = asyncio.Event()
        self.queue: asyncio.Queue[object] | None = None

    def request(self) -> None:
        self.requested = True
        self.event.set()
        if self.queue is not None:
            self.queue.put_nowait(WAKE)


class InFlight:
    def __init__(self) -> None:
        self._handles: dict[UUID, CancelHandle] = {}

    def register(self, message_id: UUID) -> CancelHandle:
        handle = self._handles.get(message_id)
        if handle is None:
            handle = self._handles[message_id] = CancelHandle()
        return handle

    def release(self, message_id: UUID) -> None:
        self._handles.pop(message_id, None)

    def cancel(self, message_id: UUID) -> bool:
        """True if this process is generating that message."""
        handle = self._handles.get(message_id)
        if handle is None:
            return False
        handle.request()
        return True

    def __len__(self) -> int:
        return len(self._handles)
