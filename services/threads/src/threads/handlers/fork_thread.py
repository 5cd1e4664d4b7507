"""ForkThread → a new thread stream: ThreadCreated naming its source (`forked_from`), then a
copy of each message on the path from the root to the given message. The source is unchanged."""

from __future__ import annotations

from contracts.commands import ForkThread
from contracts.replies import Reply
from threads.domain import branches, thread
from threads.queries.threads import thread_reply
from threads.store.ownership import require_project, thread_project
from threads.store.tree_loads import load_path
from threads.store.unit_of_work import HandlerContext
from threads.store.write_state import load_thread_for_write


async def handle(ctx: HandlerContext[ForkThread]) -> Reply:
    cmd = ctx.command
    user_id = cmd.meta.user_id
    _, _, source = await load_thread_for_write(ctx, cmd.thread_id)  # holds the source still
    thread.require_owned(source, user_id)
    project_id = await thread_project(ctx.conn, cmd.thread_id)
    await require_project(ctx.conn, user_id, project_id)
    stream, version, target = await load_thread_for_write(ctx, cmd.new_thread_id)
    events = branches.decide_fork(
        source,
        target,
        cmd,
        user_id=user_id,
        project_id=project_id,
        path=await load_path(ctx.conn, cmd.thread_id, cmd.message_id),
    )
    await ctx.append(stream, version, events)
    return await thread_reply(ctx.conn, user_id, cmd.new_thread_id)
