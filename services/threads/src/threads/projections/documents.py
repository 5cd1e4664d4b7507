"""Read model `documents`: text documents of a project or of a thread, with their content.

A document goes with its scope: deleting its thread or its project removes the row.
"""

from __future__ import annotations

from threads.projections.changes import Changes, Definition, Event
from threads.store.tables import documents


def document_added(out: Changes, event: Event) -> None:
    d = event.data
    row = {
        "id": d["document_id"],
        "user_id": d["user_id"],
        "project_id": d.get("project_id"),
        "thread_id": d.get("thread_id"),
        "filename": d["filename"],
        "content_type": d["content_type"],
        "size": d["size"],
        "content": d["content"],
        "created_at": event.recorded_at,
    }
    out.insert(documents, row)


def document_deleted(out: Changes, event: Event) -> None:
    out.delete(documents, event.data["document_id"])


def thread_deleted(out: Changes, event: Event) -> None:
    out.delete_where(documents, "thread_id", event.data["thread_id"])


def project_deleted(out: Changes, event: Event) -> None:
    out.delete_where(documents, "project_id", event.data["project_id"])


CHANGES: Definition = {
    "DocumentAdded": document_added,
    "DocumentDeleted": document_deleted,
    "ThreadDeleted": thread_deleted,
    "ProjectDeleted": project_deleted,
}
