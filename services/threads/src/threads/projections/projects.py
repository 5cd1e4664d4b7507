"""Read model `projects`: name, description, instructions, thread count and last activity
per project.

`thread_count` and `last_activity_at` move with the project's threads in
`threads.projections.threads`; this module owns the project's own lifecycle.
"""

from __future__ import annotations

from threads.projections.changes import Changes, Definition, Event
from threads.store.tables import projects


def project_created(out: Changes, event: Event) -> None:
    d, at = event.data, event.recorded_at
    row = {
        "id": d["project_id"],
        "user_id": d["user_id"],
        "name": d["name"],
        "description": d.get("description"),
        "instructions": d.get("instructions"),
        "thread_count": 0,
        "created_at": at,
        "updated_at": at,
        "last_activity_at": at,
    }
    out.insert(projects, row)


def project_updated(out: Changes, event: Event) -> None:
    d = event.data
    values: dict[str, object] = {"updated_at": event.recorded_at}
    if d.get("name") is not None:
        values["name"] = d["name"]
    if d.get("description_set"):
        values["description"] = d.get("description")
    if d.get("instructions_set"):
        values["instructions"] = d.get("instructions")
    out.update(projects, d["project_id"], set=values)


def project_deleted(out: Changes, event: Event) -> None:
    out.delete(projects, event.data["project_id"])


CHANGES: Definition = {
    "ProjectCreated": project_created,
    "ProjectUpdated": project_updated,
    "ProjectDeleted": project_deleted,
}
