"""An import as far as it got: its counts and what became of each conversation handled."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.views import ImportedThreadView, ImportView, SkippedConversationView
from threads.store.tables import import_items, imports


async def get_import(
    conn: AsyncConnection, user_id: UUID | None, import_id: UUID
) -> ImportView | None:
    row = (
        await conn.execute(
            select(imports).where(imports.c.id == import_id, imports.c.user_id == user_id)
        )
    ).first()
    if row is None:
        return None
    items = await conn.execute(
        select(import_items)
        .where(import_items.c.import_id == import_id)
        .order_by(import_items.c.seq)
    )
    made: list[ImportedThreadView] = []
    skipped: list[SkippedConversationView] = []
    for i in items:
        if i.thread_id is None:
            skipped.append(SkippedConversationView(source_id=i.source_id, reason=i.reason or ""))
        else:
            made.append(
                ImportedThreadView(id=i.thread_id, title=i.title or "", source_id=i.source_id)
            )
    return ImportView(
        id=row.id,
        source=row.source,
        status="done" if row.handled >= row.total else "running",
        total=row.total,
        handled=row.handled,
        created_at=row.created_at,
        threads=made,
        skipped=skipped,
    )
