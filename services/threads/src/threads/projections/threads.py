"""Read model `threads`: the global thread list with project name, message count, activity.

`message_count` and `last_activity_at` are kept here as messages come and go, so listing
threads never touches the messages table. Projects' `thread_count` and `last_activity_at` move
with their threads here too. Where a project row and a thread row both change, the project row
is updated first, the order every writer follows, so concurrent writers never deadlock.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    BindParameter,
    DateTime,
    Integer,
    TextClause,
    Uuid,
    bindparam,
    func,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from threads.projections import ProjectionFn
from threads.store.event_store import StoredEvent
from threads.store.tables import projects, threads, user_thread_counts

_TOUCH_PARAMS = (
    bindparam("at", type_=DateTime(timezone=True)),
    bindparam("thread_id", type_=Uuid()),
    bindparam("delta", type_=Integer()),
)


def touching(change: str | None = None, *params: BindParameter[Any]) -> TextClause:
    """The thread touch as one statement, for the project and the thread in one round trip.

    The thread's UPDATE reads the project CTE's row count (an InitPlan, evaluated before the
    first thread row is locked), so the project row is updated first, the order every writer
    follows. With `change` (a data-modifying statement with RETURNING, run as the CTE
    `changed`), that change comes first and the thread is touched only if it changed a row:
    a message and its thread's count in one round trip instead of two."""
    changed = f"changed AS ({change})," if change else ""
    guard = "(SELECT count(*) FROM changed) > 0" if change else "TRUE"
    return text(
        f"""
        WITH {changed} project_touched AS (
            UPDATE projects SET last_activity_at = greatest(projects.last_activity_at, :at)
            WHERE :at IS NOT NULL AND {guard}
              AND projects.id = (SELECT t.project_id FROM threads t WHERE t.id = :thread_id)
            RETURNING 1
        )
        UPDATE threads
        SET message_count = threads.message_count + :delta,
            last_activity_at = coalesce(greatest(threads.last_activity_at, :at),
                                        threads.last_activity_at)
        WHERE threads.id = :thread_id AND {guard}
          AND (SELECT count(*) FROM project_touched) >= 0
        """  # noqa: S608  (only this module's constant fragments, never input)
    ).bindparams(*_TOUCH_PARAMS, *params)


_TOUCH = touching()


async def touch_thread(
    conn: AsyncConnection, thread_id: UUID | str, at: datetime | None, delta: int
) -> None:
    """A message came (`delta` +1) or went (-1). `at` (the event's recorded_at) moves the
    thread's and its project's last activity forward; None leaves activity alone.

    Reusable by every projection of message events (plain and chat messages alike)."""
    tid = thread_id if isinstance(thread_id, UUID) else UUID(thread_id)
    await conn.execute(_TOUCH, {"at": at, "thread_id": tid, "delta": delta})


async def _count_in_project(
    conn: AsyncConnection, project_id: object, delta: int, at: datetime | None
) -> str | None:
    """Moves the project's thread count (and activity); returns its name as of this update,
    which holds the row: a rename committed meanwhile is seen, a later one waits for us."""
    values: dict[str, object] = {"thread_count": projects.c.thread_count + delta}
    if at is not None:
        values["last_activity_at"] = func.greatest(projects.c.last_activity_at, at)
    name: str | None = await conn.scalar(
        projects.update()
        .where(projects.c.id == project_id)
        .values(**values)
        .returning(projects.c.name)
    )
    return name


async def _count_for_user(conn: AsyncConnection, user_id: object, delta: int) -> None:
    """The user's thread total, so the list never counts rows for it."""
    upsert = pg_insert(user_thread_counts).values(user_id=user_id, thread_count=delta)
    await conn.execute(
        upsert.on_conflict_do_update(
            index_elements=[user_thread_counts.c.user_id],
            set_={"thread_count": user_thread_counts.c.thread_count + delta},
        )
    )


async def thread_created(conn: AsyncConnection, event: StoredEvent) -> None:
    d = event.data
    project_name = None
    if d.get("project_id"):
        # The name comes from the update that locks the project row, not from a read before
        # it: a rename committing in between would otherwise leave this thread the old name.
        project_name = await _count_in_project(conn, d["project_id"], +1, event.recorded_at)
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
    await _count_for_user(conn, d["user_id"], +1)


async def thread_renamed(conn: AsyncConnection, event: StoredEvent) -> None:
    """Renaming is not activity: last_activity_at stays."""
    await conn.execute(
        threads.update()
        .where(threads.c.id == event.data["thread_id"])
        .values(title=event.data["title"], updated_at=event.recorded_at)
    )


async def thread_moved(conn: AsyncConnection, event: StoredEvent) -> None:
    d = event.data
    source, target = d.get("from_project_id"), d.get("to_project_id")
    # Both project rows in id order, then the thread row (see the module docstring).
    changes = {source: -1, target: +1}
    for project_id in sorted((p for p in changes if p), key=str):
        await _count_in_project(
            conn,
            project_id,
            changes[project_id],
            event.recorded_at if project_id == target else None,
        )
    project_name = None
    if target:
        project_name = await conn.scalar(select(projects.c.name).where(projects.c.id == target))
    await conn.execute(
        threads.update()
        .where(threads.c.id == d["thread_id"])
        .values(project_id=target, project_name=project_name, updated_at=event.recorded_at)
    )


async def thread_deleted(conn: AsyncConnection, event: StoredEvent) -> None:
    thread_id = event.data["thread_id"]
    row = (
        await conn.execute(
            select(threads.c.project_id, threads.c.user_id).where(threads.c.id == thread_id)
        )
    ).first()
    if row is None:
        return
    if row.project_id is not None:
        await _count_in_project(conn, row.project_id, -1, None)
    await conn.execute(threads.delete().where(threads.c.id == thread_id))
    await _count_for_user(conn, row.user_id, -1)


async def project_updated(conn: AsyncConnection, event: StoredEvent) -> None:
    """The denormalised project name follows a rename."""
    if event.data.get("name") is not None:
        await conn.execute(
            threads.update()
            .where(threads.c.project_id == event.data["project_id"])
            .values(project_name=event.data["name"])
        )


async def project_deleted(conn: AsyncConnection, event: StoredEvent) -> None:
    """Its threads stay the user's, now without a project."""
    await conn.execute(
        threads.update()
        .where(threads.c.project_id == event.data["project_id"])
        .values(project_id=None, project_name=None)
    )


async def message_posted(conn: AsyncConnection, event: StoredEvent) -> None:
    await touch_thread(conn, event.data["thread_id"], event.recorded_at, +1)


async def message_deleted(conn: AsyncConnection, event: StoredEvent) -> None:
    await touch_thread(conn, event.data["thread_id"], None, -1)


HANDLERS: dict[str, ProjectionFn] = {
    "ThreadCreated": thread_created,
    "ThreadRenamed": thread_renamed,
    "ThreadMoved": thread_moved,
    "ThreadDeleted": thread_deleted,
    "ProjectUpdated": project_updated,
    "ProjectDeleted": project_deleted,
    "MessagePosted": message_posted,
    "MessageDeleted": message_deleted,
}
