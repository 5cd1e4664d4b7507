"""Read model `projects`: name, description, thread count and last activity per project.

`thread_count` and `last_activity_at` move with the project's threads in
`threads.projections.threads`; this module owns the project's own lifecycle.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from threads.projections import ProjectionFn
from threads.store.event_store import StoredEvent
from threads.store.tables import projects


async def project_created(conn: AsyncConnection, event: StoredEvent) -> None:
    d = event.data
    await conn.execute(
        projects.insert().values(
            id=d["project_id"],
            user_id=d["user_id"],
            name=d["name"],
            description=d.get("description"),
            thread_count=0,
            created_at=event.recorded_at,
            updated_at=event.recorded_at,
            last_activity_at=event.recorded_at,
        )
    )


async def project_updated(conn: AsyncConnection, event: StoredEvent) -> None:
    d = event.data
    values: dict[str, object] = {"updated_at": event.recorded_at}
    if d.get("name") is not None:
        values["name"] = d["name"]
    if d.get("description_set"):
        values["description"] = d.get("description")
    await conn.execute(projects.update().where(projects.c.id == d["project_id"]).values(**values))


async def project_deleted(conn: AsyncConnection, event: StoredEvent) -> None:
    await conn.execute(projects.delete().where(projects.c.id == event.data["project_id"]))


HANDLERS: dict[str, ProjectionFn] = {
    "ProjectCreated": project_created,
    "ProjectUpdated": project_updated,
    "ProjectDeleted": project_deleted,
}
