"""The fold mirrors the projections: one module per projection module, handling the same event
types, and row classes whose fields are their tables' columns in order (rows are COPYed as they
stand)."""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import fields

import threads.projections as projections_pkg
import threads.replay.fold as fold_pkg
from threads.replay.fold.state import ReadModels
from threads.store.tables import READ_MODELS


def modules(package: object) -> set[str]:
    return {m.name for m in pkgutil.iter_modules(package.__path__)}  # type: ignore[attr-defined]


def test_every_projection_has_a_fold_for_the_same_events() -> None:
    projections = modules(projections_pkg)
    assert projections <= modules(fold_pkg)
    for name in projections:
        live = importlib.import_module(f"threads.projections.{name}").HANDLERS
        fold = importlib.import_module(f"threads.replay.fold.{name}").HANDLERS
        assert sorted(fold) == sorted(live), name


def test_the_folder_dispatches_like_the_projector() -> None:
    """Same modules, same order, per event type."""
    projector = projections_pkg.default_projector()
    folder = fold_pkg.default_folder()
    live = {
        t: [f"{fn.__module__.rsplit('.', 1)[1]}.{fn.__name__}" for fn in fns]
        for t, fns in projector._handlers.items()
    }
    fold = {
        t: [f"{fn.__module__.rsplit('.', 1)[1]}.{fn.__name__}" for fn in fns]
        for t, fns in folder.handlers.items()
    }
    assert fold == live


def test_rows_are_their_tables_columns_in_order() -> None:
    records = ReadModels().records()
    assert sorted(records) == sorted(t.name for t in READ_MODELS)
    row_types = {
        "users": "UserRow",
        "projects": "ProjectRow",
        "threads": "ThreadRow",
        "messages": "MessageRow",
        "documents": "DocumentRow",
        "provider_settings": "ProviderSettingRow",
        "task_routes": "TaskRouteRow",
    }
    rows = importlib.import_module("threads.replay.fold.rows")
    for table in READ_MODELS:
        columns = [c.name for c in table.columns]
        if table.name in row_types:
            assert [f.name for f in fields(getattr(rows, row_types[table.name]))] == columns
        else:  # a dict of key -> value
            assert len(columns) == 2, table.name
