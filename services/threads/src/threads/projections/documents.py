"""Read model `documents`: text documents of a project or of a thread, with their content.

A document goes with its scope: deleting its thread or its project removes the row.
"""

from __future__ import annotations

from threads.projections.changes import Changes, Definition, Event, deletes, deletes_with, fields
from threads.store.tables import documents

SCOPE = ("project_id", "thread_id")


def document_added(out: Changes, event: Event) -> None:
    d = event.data
    copied = fields(d, "user_id", "filename", "content_type", "size", "content", maybe=SCOPE)
    out.insert(documents, {"id": d["document_id"], **copied, "created_at": event.recorded_at})


CHANGES: Definition = {
    "DocumentAdded": document_added,
    "DocumentDeleted": deletes(documents, "document_id"),
    "ThreadDeleted": deletes_with(documents, "thread_id"),
    "ProjectDeleted": deletes_with(documents, "project_id"),
}
