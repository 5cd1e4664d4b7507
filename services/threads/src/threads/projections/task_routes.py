"""Read models `task_routes` and `preferences`: the user's routes replaced as a whole, and
whether the title task uses its own model (`use_separate_models`)."""

from __future__ import annotations

from threads.projections.changes import Changes, Definition, Event
from threads.store.tables import preferences, task_routes


def task_routes_set(out: Changes, event: Event) -> None:
    d = event.data
    user_id = d["user_id"]
    out.delete_where(task_routes, "user_id", user_id)
    for r in d["routes"]:
        route = {
            "user_id": user_id,
            "task": r["task"],
            "provider": r["provider"],
            "model": r["model"],
        }
        out.insert(task_routes, route)
    separate = d["use_separate_models"]
    row = {"user_id": user_id, "use_separate_models": separate}
    out.upsert(preferences, row, set={"use_separate_models": separate})


CHANGES: Definition = {"TaskRoutesSet": task_routes_set}
