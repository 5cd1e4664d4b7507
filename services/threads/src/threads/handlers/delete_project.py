"""DeleteProject → ProjectDeleted. Its threads stay the user's, project-less (the threads
projection clears their project); its documents go (the documents projection)."""

from __future__ import annotations

from contracts.commands import DeleteProject
from contracts.replies import Reply
from threads.domain import project
from threads.store.locks import lock_stream
from threads.store.unit_of_work import HandlerContext


async def handle(ctx: HandlerContext[DeleteProject]) -> Reply:
    cmd = ctx.command
    stream = project.stream_id(cmd.project_id)
    await lock_stream(ctx.conn, stream)
    version, stored = await ctx.load(stream)
    state = project.fold([e.to_domain() for e in stored])
    await ctx.append(stream, version, project.decide_delete(state, cmd, user_id=cmd.meta.user_id))
    return Reply.success({"message": "Project deleted"})
