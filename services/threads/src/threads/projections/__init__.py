"""Projections: one module per read model, each a map from event type to a function that says
which rows the event changes (`projections.changes`). The live path compiles one append's
changes into SQL run in the appending transaction (`projections.sql`); replay applies the very
same changes in memory (`threads.replay.memory`) and then, for its catch-up, through SQL.

A definition uses only the event and its `recorded_at`, never the clock, so replay produces
exactly the rows the live path produced.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from threads.projections.changes import Change, ChangeFn, Definition, Event, Recorder
from threads.projections.sql import execute


class Projector:
    """Every read model's definitions, by event type, in the order given.

    `project_all` projects one append's events: their changes compiled together, so a chat's
    question and answer request go in as one statement. Calling the projector projects one
    event (replay's catch-up, tests)."""

    def __init__(self, *definitions: Definition) -> None:
        by_type: dict[str, list[ChangeFn]] = defaultdict(list)
        for definition in definitions:
            for event_type, fn in definition.items():
                by_type[event_type].append(fn)
        self.definitions: dict[str, tuple[ChangeFn, ...]] = {
            t: tuple(fns) for t, fns in by_type.items()
        }
        self._collecting: dict[AsyncConnection, list[Change]] = {}

    def changes(self, event: Event) -> list[Change]:
        recorder = Recorder()
        for fn in self.definitions.get(event.type, ()):
            fn(recorder, event)
        return recorder.changes

    async def __call__(self, conn: AsyncConnection, event: Any) -> None:
        changes = self.changes(event)
        collecting = self._collecting.get(conn)
        if collecting is not None:  # inside project_all: compiled with the rest
            collecting.extend(changes)
        elif changes:
            await execute(conn, changes)

    async def project_all(self, conn: AsyncConnection, events: Sequence[Any]) -> None:
        collected: list[Change] = []
        self._collecting[conn] = collected
        try:
            for event in events:
                await self(conn, event)
        finally:
            del self._collecting[conn]
        if collected:
            await execute(conn, collected)


def default_projector() -> Projector:
    from threads.projections import (
        api_keys,
        documents,
        imports,
        messages,
        prices,
        projects,
        provider_settings,
        shares,
        summaries,
        task_routes,
        usage,
        users,
    )
    from threads.projections import threads as threads_rm

    return Projector(
        users.CHANGES,
        projects.CHANGES,  # before threads: a project row changes before its threads' rows
        threads_rm.CHANGES,
        messages.CHANGES,
        documents.CHANGES,
        provider_settings.CHANGES,
        task_routes.CHANGES,
        summaries.CHANGES,
        shares.CHANGES,
        imports.CHANGES,
        usage.CHANGES,
        prices.CHANGES,
        api_keys.CHANGES,
    )
