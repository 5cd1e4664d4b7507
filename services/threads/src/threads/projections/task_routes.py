"""Read models `task_routes` and `preferences`: the user's routes replaced as a whole, and
whether the title task uses its own model (`use_separate_models`)."""

from __future__ import annotations

from threads.projections.changes import Change, Definition, DeleteWhere, Event, Insert, Upsert
from threads.store.tables import preferences, task_routes


def task_routes_set(event: Event) -> list[Change]:
    d = event.data
    user_id = d["user_id"]
    changes: list[Change] = [DeleteWhere(task_routes, "user_id", user_id)]
    changes.extend(
        Insert(
            task_routes,
            {"user_id": user_id, "task": r["task"], "provider": r["provider"], "model": r["model"]},
        )
        for r in d["routes"]
    )
    separate = d["use_separate_models"]
    changes.append(
        Upsert(
            preferences,
            {"user_id": user_id, "use_separate_models": separate},
            set={"use_separate_models": separate},
        )
    )
    return changes


CHANGES: Definition = {"TaskRoutesSet": task_routes_set}
