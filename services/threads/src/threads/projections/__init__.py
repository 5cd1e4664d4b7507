"""Projections: one module per read model, each a map from event type to an async function that
updates its table inside the appending transaction. Replay runs the very same functions.

A projection uses only the event and its `recorded_at`, never the clock, so replay produces
exactly the rows the live projections produced.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence

from sqlalchemy.ext.asyncio import AsyncConnection

from threads.store.event_store import StoredEvent

ProjectionFn = Callable[[AsyncConnection, StoredEvent], Awaitable[None]]
PairFn = Callable[[AsyncConnection, StoredEvent, StoredEvent], Awaitable[None]]


class Projector:
    """Dispatches a stored event to every projection that cares about its type.

    `project_all` projects one append's events; where two of them form a known pair (a
    chat's question and its answer request) and one projection alone handles both types, its
    pair function writes both in one statement. Replay calls the projector per event."""

    def __init__(
        self,
        *handler_maps: dict[str, ProjectionFn],
        pairs: dict[tuple[str, str], PairFn] | None = None,
    ) -> None:
        self._handlers: dict[str, list[ProjectionFn]] = defaultdict(list)
        for handlers in handler_maps:
            for event_type, fn in handlers.items():
                self._handlers[event_type].append(fn)
        self._pairs = dict(pairs or {})
        for first, second in self._pairs:
            if len(self._handlers[first]) != 1 or len(self._handlers[second]) != 1:
                raise ValueError(f"{first}, {second}: a pair needs one projection for each")

    async def __call__(self, conn: AsyncConnection, event: StoredEvent) -> None:
        for fn in self._handlers.get(event.type, ()):
            await fn(conn, event)

    async def project_all(self, conn: AsyncConnection, events: Sequence[StoredEvent]) -> None:
        i = 0
        while i < len(events):
            event = events[i]
            pair = (
                self._pairs.get((event.type, events[i + 1].type)) if i + 1 < len(events) else None
            )
            if pair is not None:
                await pair(conn, event, events[i + 1])
                i += 2
            else:
                await self(conn, event)
                i += 1


def default_projector() -> Projector:
    from threads.projections import (
        chat_messages,
        documents,
        messages,
        projects,
        provider_settings,
        task_routes,
        users,
    )
    from threads.projections import threads as threads_rm

    return Projector(
        users.HANDLERS,
        projects.HANDLERS,  # before threads: a project row changes before its threads' rows
        threads_rm.HANDLERS,
        messages.HANDLERS,
        chat_messages.HANDLERS,
        documents.HANDLERS,
        provider_settings.HANDLERS,
        task_routes.HANDLERS,
        pairs=chat_messages.PAIRS,
    )
