"""Read model `documents`: text documents of a project or of a thread, with their content.

A document goes with its scope: deleting its thread or its project removes the row.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from threads.projections import ProjectionFn
from threads.store.event_store import StoredEvent
from threads.store.tables import documents


async def document_added(conn: AsyncConnection, event: StoredEvent) -> None:
    d = event.data
    await conn.execute(
        documents.insert().values(
            id=d["document_id"],
            user_id=d["user_id"],
            project_id=d.get("project_id"),
            thread_id=d.get("thread_id"),
            filename=d["filename"],
            content_type=d["content_type"],
            size=d["size"],
            content=d["content"],
            created_at=event.recorded_at,
        )
    )


async def document_deleted(conn: AsyncConnection, event: StoredEvent) -> None:
    await conn.execute(documents.delete().where(documents.c.id == event.data["document_id"]))


async def thread_deleted(conn: AsyncConnection, event: StoredEvent) -> None:
    await conn.execute(documents.delete().where(documents.c.thread_id == event.data["thread_id"]))


async def project_deleted(conn: AsyncConnection, event: StoredEvent) -> None:
    await conn.execute(documents.delete().where(documents.c.project_id == event.data["project_id"]))


HANDLERS: dict[str, ProjectionFn] = {
    "DocumentAdded": document_added,
    "DocumentDeleted": document_deleted,
    "ThreadDeleted": thread_deleted,
    "ProjectDeleted": project_deleted,
}
