"""Queries about documents: a project's or a thread's documents, one document with content."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.queries import ListDocuments
from contracts.views import DocumentDetailView, DocumentView
from threads.domain.errors import invalid, not_found
from threads.queries.views import document_view
from threads.store.tables import documents, projects, threads

_LISTED = [c for c in documents.c if c.name != "content"]


async def list_documents(
    conn: AsyncConnection, user_id: UUID | None, q: ListDocuments
) -> dict[str, Any]:
    """Oldest first. The scope (exactly one of project, thread) must be the user's."""
    if (q.project_id is None) == (q.thread_id is None):
        raise invalid("Give exactly one of project_id, thread_id")
    scope, table, what = documents.c.thread_id, threads, "Thread"
    if q.project_id is not None:
        scope, table, what = documents.c.project_id, projects, "Project"
    ident = q.project_id or q.thread_id
    owned = await conn.scalar(
        select(table.c.id).where(table.c.id == ident, table.c.user_id == user_id)
    )
    if owned is None:
        raise not_found(what)
    rows = (
        await conn.execute(
            select(*_LISTED)
            .where(scope == ident, documents.c.user_id == user_id)
            .order_by(documents.c.created_at, documents.c.id)
        )
    ).all()
    return {"documents": [document_view(r).model_dump(mode="json") for r in rows]}


async def fetch_document(
    conn: AsyncConnection, user_id: UUID | None, document_id: UUID
) -> DocumentView | None:
    row = (
        await conn.execute(
            select(*_LISTED).where(documents.c.id == document_id, documents.c.user_id == user_id)
        )
    ).first()
    return document_view(row) if row else None


async def get_document(
    conn: AsyncConnection, user_id: UUID | None, document_id: UUID
) -> DocumentDetailView | None:
    row = (
        await conn.execute(
            select(documents).where(documents.c.id == document_id, documents.c.user_id == user_id)
        )
    ).first()
    if row is None:
        return None
    return DocumentDetailView(**document_view(row).model_dump(), content=row.content)
