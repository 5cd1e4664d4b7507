"""DeleteDocument → DocumentDeleted. A document whose project or thread is gone is gone too."""

from __future__ import annotations

from sqlalchemy import select

from contracts.commands import DeleteDocument
from contracts.replies import Reply
from threads.domain import document
from threads.domain.errors import not_found
from threads.store.locks import lock_stream
from threads.store.tables import documents
from threads.store.unit_of_work import HandlerContext


async def handle(ctx: HandlerContext[DeleteDocument]) -> Reply:
    cmd = ctx.command
    user_id = cmd.meta.user_id
    stream = document.stream_id(cmd.document_id)
    await lock_stream(ctx.conn, stream)
    present = await ctx.conn.scalar(
        select(documents.c.id).where(
            documents.c.id == cmd.document_id, documents.c.user_id == user_id
        )
    )
    if present is None:
        raise not_found("Document")
    version, stored = await ctx.load(stream)
    state = document.fold([e.to_domain() for e in stored])
    await ctx.append(stream, version, document.decide_delete(state, user_id=user_id))
    return Reply.success({"message": "Document deleted"})
