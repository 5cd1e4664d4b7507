"""Queries about projects: the user's projects, newest activity first, and one project."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.views import ProjectView
from threads.queries.views import project_view
from threads.store.tables import projects


async def list_projects(conn: AsyncConnection, user_id: UUID) -> dict[str, Any]:
    rows = (
        await conn.execute(
            select(projects)
            .where(projects.c.user_id == user_id)
            .order_by(projects.c.last_activity_at.desc(), projects.c.id.desc())
        )
    ).all()
    return {"projects": [project_view(r).model_dump(mode="json") for r in rows]}


async def fetch_project(
    conn: AsyncConnection, user_id: UUID | None, project_id: UUID
) -> ProjectView | None:
    row = (
        await conn.execute(
            select(projects).where(projects.c.id == project_id, projects.c.user_id == user_id)
        )
    ).first()
    return project_view(row) if row else None
