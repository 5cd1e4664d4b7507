"""UpdateProject → ProjectUpdated (rename, describe, instruct; description and instructions
may be set to null)."""

from __future__ import annotations

from contracts.commands import UpdateProject
from contracts.replies import Reply
from threads.domain import project
from threads.queries.projects import fetch_project
from threads.store.unit_of_work import HandlerContext
from threads.store.write_state import load_project_for_write


async def handle(ctx: HandlerContext[UpdateProject]) -> Reply:
    cmd = ctx.command
    stream, version, state = await load_project_for_write(ctx, cmd.project_id)
    await ctx.append(stream, version, project.decide_update(state, cmd, user_id=cmd.meta.user_id))
    view = await fetch_project(ctx.conn, cmd.meta.user_id, cmd.project_id)
    assert view is not None
    return Reply.success(view.model_dump(mode="json"))
