"""Read-model rows written by concurrent transactions stay what the events say."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts.base import DomainEvent, Envelope
from contracts.events import ProjectCreated, ProjectUpdated, ThreadCreated, UserRegistered
from threads.projections import default_projector
from threads.store import event_store
from threads.store.tables import threads


async def append_and_project(conn: object, stream: str, version: int, event: DomainEvent) -> None:
    for stored in await event_store.append(conn, stream, version, [event], Envelope()):  # type: ignore[arg-type]
        await default_projector()(conn, stored)  # type: ignore[arg-type]


async def test_a_thread_created_during_a_rename_gets_the_new_project_name(
    engine: AsyncEngine,
) -> None:
    """The rename holds the project row; the thread's creation waits for it and must take the
    name the rename committed, not the one it could read before waiting."""
    uid, pid, tid = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    async with engine.begin() as conn:
        await append_and_project(
            conn,
            f"user-{uid}",
            0,
            UserRegistered(user_id=uid, email=f"{uid}@x.com", display_name=None, password_hash="h"),
        )
        await append_and_project(
            conn,
            f"project-{pid}",
            0,
            ProjectCreated(project_id=pid, user_id=uid, name="old name", description=None),
        )
    async with engine.connect() as renamer, engine.connect() as creator:
        rename = await renamer.begin()
        await append_and_project(
            renamer, f"project-{pid}", 1, ProjectUpdated(project_id=pid, name="new name")
        )
        create = await creator.begin()
        created = asyncio.create_task(
            append_and_project(
                creator,
                f"thread-{tid}",
                0,
                ThreadCreated(
                    thread_id=tid,
                    user_id=uid,
                    project_id=pid,
                    title="t",
                    provider="echo",
                    model="echo",
                    thread_type="assistant",
                    agent_type="chat",
                ),
            )
        )
        await asyncio.sleep(0.3)  # the creation is now waiting for the project row
        assert not created.done()
        await rename.commit()
        await created
        await create.commit()
    async with engine.connect() as conn:
        name = await conn.scalar(select(threads.c.project_name).where(threads.c.id == tid))
    assert name == "new name"
