"""Read model `documents`: text documents of a project or of a thread, with their content.

A document goes with its scope: deleting its thread or its project removes the row.
"""

from __future__ import annotations

from threads.projections.changes import Changes, Definition, Event, deletes, deletes_with
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


CHANGES: Definition = {
    "DocumentAdded": document_added,
    "DocumentDeleted": deletes(documents, "document_id"),
    "ThreadDeleted": deletes_with(documents, "thread_id"),
    "ProjectDeleted": deletes_with(documents, "project_id"),
}
