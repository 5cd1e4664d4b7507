"""AddDocument → DocumentAdded, in a project or a thread of the user's, within the size limit."""

from __future__ import annotations

from contracts.commands import AddDocument
from contracts.replies import Reply
from threads.domain import document
from threads.queries.documents import fetch_document
from threads.store.ownership import require_project, require_thread
from threads.store.unit_of_work import HandlerContext


async def handle(ctx: HandlerContext[AddDocument], *, max_bytes: int) -> Reply:
    cmd = ctx.command
    user_id = cmd.meta.user_id
    assert user_id is not None
    await require_project(ctx.conn, user_id, cmd.project_id)
    if cmd.thread_id is not None:
        await require_thread(ctx.conn, user_id, cmd.thread_id)
    stream = document.stream_id(cmd.document_id)
    version, stored = await ctx.load(stream)
    state = document.fold([e.to_domain() for e in stored])
    events = document.decide_add(state, cmd, user_id=user_id, max_bytes=max_bytes)
    await ctx.append(stream, version, events)
    view = await fetch_document(ctx.conn, user_id, cmd.document_id)
    assert view is not None
    return Reply.success(view.model_dump(mode="json"))
