"""Fold of `threads.projections.documents`: a document goes with its thread or its project."""

from __future__ import annotations

from threads.replay.fold import FoldFn
from threads.replay.fold.rows import DocumentRow
from threads.replay.fold.state import Event, ReadModels


def document_added(m: ReadModels, event: Event) -> None:
    d = event.data
    row = DocumentRow(
        d["document_id"],
        d["user_id"],
        d.get("project_id"),
        d.get("thread_id"),
        d["filename"],
        d["content_type"],
        d["size"],
        d["content"],
        event.recorded_at,
    )
    m.documents[row.id] = row
    if row.project_id is not None:
        m.project_documents.setdefault(row.project_id, []).append(row.id)
    if row.thread_id is not None:
        m.thread_documents.setdefault(row.thread_id, []).append(row.id)


def document_deleted(m: ReadModels, event: Event) -> None:
    m.documents.pop(event.data["document_id"], None)


def thread_deleted(m: ReadModels, event: Event) -> None:
    for document_id in m.thread_documents.pop(event.data["thread_id"], ()):
        m.documents.pop(document_id, None)


def project_deleted(m: ReadModels, event: Event) -> None:
    for document_id in m.project_documents.pop(event.data["project_id"], ()):
        m.documents.pop(document_id, None)


HANDLERS: dict[str, FoldFn] = {
    "DocumentAdded": document_added,
    "DocumentDeleted": document_deleted,
    "ThreadDeleted": thread_deleted,
    "ProjectDeleted": project_deleted,
}
