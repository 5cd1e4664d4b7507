"""Fold of `threads.projections.task_routes`: a user's routes replaced as a whole, and the
`use_separate_models` preference."""

from __future__ import annotations

from threads.replay.fold import FoldFn
from threads.replay.fold.rows import TaskRouteRow
from threads.replay.fold.state import Event, ReadModels


def task_routes_set(m: ReadModels, event: Event) -> None:
    d = event.data
    user_id = d["user_id"]
    m.task_routes[user_id] = [
        TaskRouteRow(user_id, r["task"], r["provider"], r["model"]) for r in d["routes"]
    ]
    m.preferences[user_id] = d["use_separate_models"]


HANDLERS: dict[str, FoldFn] = {"TaskRoutesSet": task_routes_set}
