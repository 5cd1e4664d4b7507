"""Read model `threads`: the global thread list with project name, message count, activity.

`message_count` and `last_activity_at` are kept here as messages come and go, so listing
threads never touches the messages table.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from threads.projections import ProjectionFn
from threads.store.event_store import StoredEvent
from threads.store.tables import projects, threads


async def thread_created(conn: AsyncConnection, event: StoredEvent) -> None:
    d = event.data
    project_name = None
    if d.get("project_id"):
        project_name = await conn.scalar(
            select(projects.c.name).where(projects.c.id == d["project_id"])
        )
        await conn.execute(
            projects.update()
            .where(projects.c.id == d["project_id"])
            .values(thread_count=projects.c.thread_count + 1, last_activity_at=event.recorded_at)
        )
    await conn.execute(
        threads.insert().values(
            id=d["thread_id"],
            user_id=d["user_id"],
            project_id=d.get("project_id"),
            project_name=project_name,
            title=d["title"],
            model_provider=d["model_provider"],
            model=d["model"],
            thread_type=d["thread_type"],
            agent_type=d["agent_type"],
            message_count=0,
            created_at=event.recorded_at,
            updated_at=event.recorded_at,
            last_activity_at=event.recorded_at,
        )
    )


HANDLERS: dict[str, ProjectionFn] = {"ThreadCreated": thread_created}
