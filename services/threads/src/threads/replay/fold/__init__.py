"""Fold: the read models rebuilt in memory, for replay's bulk phase.

One module per projection, with the same name (`threads.projections.threads` ↔
`threads.replay.fold.threads`), each mapping the same event types to a function that changes
in-memory rows exactly as the projection's SQL changes table rows: same values, same
timestamps (`recorded_at`), same cascades. The catch-up then runs the SQL projections on top of
the rows this produced, so the two must agree; `tests/e2e/test_replay_equivalence.py` proves it
on a data set that produces every event type.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from threads.replay.fold.state import Event, ReadModels

FoldFn = Callable[[ReadModels, Event], None]


class Folder:
    """Dispatches an event to every fold that cares about its type, in projector order."""

    def __init__(self, *handler_maps: dict[str, FoldFn]) -> None:
        handlers: dict[str, list[FoldFn]] = defaultdict(list)
        for handler_map in handler_maps:
            for event_type, fn in handler_map.items():
                handlers[event_type].append(fn)
        self.handlers: dict[str, tuple[FoldFn, ...]] = {t: tuple(f) for t, f in handlers.items()}
        # one call per event: the bulk phase makes a million of them
        self.dispatch: dict[str, FoldFn] = {t: _chain(f) for t, f in self.handlers.items()}

    def __call__(self, models: ReadModels, event: Event) -> None:
        fn = self.dispatch.get(event.type)
        if fn is not None:
            fn(models, event)


def _chain(fns: tuple[FoldFn, ...]) -> FoldFn:
    if len(fns) == 1:
        return fns[0]

    def chained(models: ReadModels, event: Event) -> None:
        for fn in fns:
            fn(models, event)

    return chained


def default_folder() -> Folder:
    """The same modules in the same order as `threads.projections.default_projector`."""
    from threads.replay.fold import (
        chat_messages,
        documents,
        messages,
        projects,
        provider_settings,
        task_routes,
        users,
    )
    from threads.replay.fold import threads as threads_rm

    return Folder(
        users.HANDLERS,
        projects.HANDLERS,
        threads_rm.HANDLERS,
        messages.HANDLERS,
        chat_messages.HANDLERS,
        documents.HANDLERS,
        provider_settings.HANDLERS,
        task_routes.HANDLERS,
    )
