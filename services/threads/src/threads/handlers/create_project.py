"""CreateProject → ProjectCreated."""

from __future__ import annotations

from contracts.commands import CreateProject
from contracts.replies import Reply
from threads.domain import project
from threads.queries.projects import fetch_project
from threads.store.unit_of_work import HandlerContext


async def handle(ctx: HandlerContext[CreateProject]) -> Reply:
    cmd = ctx.command
    user_id = cmd.meta.user_id
    assert user_id is not None
    stream = project.stream_id(cmd.project_id)
    version, stored = await ctx.load(stream)
    state = project.fold([e.to_domain() for e in stored])
    await ctx.append(stream, version, project.decide_create(state, cmd, user_id=user_id))
    view = await fetch_project(ctx.conn, user_id, cmd.project_id)
    assert view is not None
    return Reply.success(view.model_dump(mode="json"))
