"""Identical lookups in flight share one answer.

A burst of readers of one answer (a user's tabs and devices reconnecting at once) asks the same
questions: does this user own that message (a threads query), what is its newest token (a
JetStream request). Each asked on its own queued thousands of requests behind one another
until they timed out; asked once per key while one is in flight, they cost one each. Nothing
is kept once answered: the next reader asks afresh.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, Generic, TypeVar

from starlette.datastructures import State

V = TypeVar("V")


class Coalesced(Generic[V]):
    def __init__(self) -> None:
        self._flying: dict[Hashable, asyncio.Future[V]] = {}

    async def get(self, key: Hashable, ask: Callable[[], Awaitable[V]]) -> V:
        """The answer of the lookup in flight for `key`, or of `ask()` started now. Its
        error is every waiter's. A waiter that goes away does not cancel it for the others."""
        flying = self._flying.get(key)
        if flying is None:
            flying = self._flying[key] = asyncio.ensure_future(ask())
            flying.add_done_callback(lambda done: self._landed(key, done))
        return await asyncio.shield(flying)

    def _landed(self, key: Hashable, done: asyncio.Future[V]) -> None:
        if self._flying.get(key) is done:
            del self._flying[key]
        if not done.cancelled():
            done.exception()  # retrieved: nobody waiting is not an unhandled error

    def __len__(self) -> int:
        return len(self._flying)


def coalesced(state: State, name: str) -> Coalesced[Any]:
    """The app's coalescer of one kind of lookup, made on first use."""
    found: Coalesced[Any] | None = getattr(state, name, None)
    if found is None:
        found = Coalesced()
        setattr(state, name, found)
    return found
