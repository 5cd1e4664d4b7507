"""Fold of `threads.projections.projects`: a project's own lifecycle (its counters move in
`fold.threads`)."""

from __future__ import annotations

from threads.replay.fold import FoldFn
from threads.replay.fold.rows import ProjectRow
from threads.replay.fold.state import Event, ReadModels


def project_created(m: ReadModels, event: Event) -> None:
    d, at = event.data, event.recorded_at
    m.projects[d["project_id"]] = ProjectRow(
        d["project_id"], d["user_id"], d["name"], d.get("description"), 0, at, at, at
    )


def project_updated(m: ReadModels, event: Event) -> None:
    d = event.data
    row = m.projects.get(d["project_id"])
    if row is None:
        return
    row.updated_at = event.recorded_at
    if d.get("name") is not None:
        row.name = d["name"]
    if d.get("description_set"):
        row.description = d.get("description")


def project_deleted(m: ReadModels, event: Event) -> None:
    m.projects.pop(event.data["project_id"], None)


HANDLERS: dict[str, FoldFn] = {
    "ProjectCreated": project_created,
    "ProjectUpdated": project_updated,
    "ProjectDeleted": project_deleted,
}
