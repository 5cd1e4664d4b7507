"""DeleteProject → ProjectDeleted. Its threads stay the user's, project-less (the threads
projection clears their project); its documents go (the documents projection)."""

from __future__ import annotations

from contracts.commands import DeleteProject
from contracts.replies import Reply
from threads.domain import project
from threads.store.unit_of_work import HandlerContext
from threads.store.write_state import load_project_for_write


async def handle(ctx: HandlerContext[DeleteProject]) -> Reply:
    cmd = ctx.command
    stream, version, state = await load_project_for_write(ctx, cmd.project_id)
    await ctx.append(stream, version, project.decide_delete(state, cmd, user_id=cmd.meta.user_id))
    return Reply.success({"message": "Project deleted"})
