"""Projections: one module per read model, each a map from event type to an async function that
updates its table inside the appending transaction. Replay runs the very same functions.

A projection uses only the event and its `recorded_at`, never the clock, so replay produces
exactly the rows the live projections produced.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncConnection

from threads.store.event_store import StoredEvent

ProjectionFn = Callable[[AsyncConnection, StoredEvent], Awaitable[None]]


class Projector:
    """Dispatches a stored event to every projection that cares about its type."""

    def __init__(self, *handler_maps: dict[str, ProjectionFn]) -> None:
        self._handlers: dict[str, list[ProjectionFn]] = defaultdict(list)
        for handlers in handler_maps:
            for event_type, fn in handlers.items():
                self._handlers[event_type].append(fn)

    async def __call__(self, conn: AsyncConnection, event: StoredEvent) -> None:
        for fn in self._handlers.get(event.type, ()):
            await fn(conn, event)


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
    )
