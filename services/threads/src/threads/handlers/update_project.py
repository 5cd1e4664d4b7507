"""UpdateProject → ProjectUpdated (rename, describe; the description may be set to null)."""

from __future__ import annotations

from contracts.commands import UpdateProject
from contracts.replies import Reply
from threads.domain import project
from threads.queries.projects import fetch_project
from threads.store.locks import lock_stream
from threads.store.unit_of_work import HandlerContext


async def handle(ctx: HandlerContext[UpdateProject]) -> Reply:
    cmd = ctx.command
    stream = project.stream_id(cmd.project_id)
    await lock_stream(ctx.conn, stream)
    version, stored = await ctx.load(stream)
    state = project.fold([e.to_domain() for e in stored])
    await ctx.append(stream, version, project.decide_update(state, cmd, user_id=cmd.meta.user_id))
    view = await fetch_project(ctx.conn, cmd.meta.user_id, cmd.project_id)
    assert view is not None
    return Reply.success(view.model_dump(mode="json"))
