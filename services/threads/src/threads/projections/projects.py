"""Read model `projects`: name, description, thread count and last activity per project.

`thread_count` and `last_activity_at` move with the project's threads in
`threads.projections.threads`; this module owns the project's own lifecycle.
"""

from __future__ import annotations

from threads.projections.changes import Change, Definition, Delete, Event, Insert, Update
from threads.store.tables import projects


def project_created(event: Event) -> list[Change]:
    d, at = event.data, event.recorded_at
    return [
        Insert(
            projects,
            {
                "id": d["project_id"],
                "user_id": d["user_id"],
                "name": d["name"],
                "description": d.get("description"),
                "thread_count": 0,
                "created_at": at,
                "updated_at": at,
                "last_activity_at": at,
            },
        )
    ]


def project_updated(event: Event) -> list[Change]:
    d = event.data
    values: dict[str, object] = {"updated_at": event.recorded_at}
    if d.get("name") is not None:
        values["name"] = d["name"]
    if d.get("description_set"):
        values["description"] = d.get("description")
    return [Update(projects, d["project_id"], set=values)]


def project_deleted(event: Event) -> list[Change]:
    return [Delete(projects, event.data["project_id"])]


CHANGES: Definition = {
    "ProjectCreated": project_created,
    "ProjectUpdated": project_updated,
    "ProjectDeleted": project_deleted,
}
