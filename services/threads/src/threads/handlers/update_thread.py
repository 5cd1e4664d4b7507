"""UpdateThread → ThreadRenamed, ThreadMoved and/or ThreadContextConfigured (all checked
before any is appended). Renaming does not move last activity; moving into a project needs
that project to be the user's."""

from __future__ import annotations

from contracts.base import DomainEvent
from contracts.commands import UpdateThread
from contracts.replies import Reply
from threads.domain import context, thread
from threads.queries.threads import thread_reply
from threads.store.ownership import require_project, thread_project
from threads.store.unit_of_work import HandlerContext
from threads.store.write_state import load_owned_thread


async def handle(ctx: HandlerContext[UpdateThread]) -> Reply:
    cmd = ctx.command
    user_id = cmd.meta.user_id
    stream, version, state = await load_owned_thread(ctx, cmd.thread_id)
    if cmd.move and cmd.project_id is not None:
        await require_project(ctx.conn, user_id, cmd.project_id)
    settings = context.decide_on_update(state, cmd)
    events: list[DomainEvent] = [
        *thread.decide_update(
            state,
            cmd,
            user_id=user_id,
            current_project_id=await thread_project(ctx.conn, cmd.thread_id),
        ),
        *settings,
    ]
    await ctx.append(stream, version, events)
    return await thread_reply(ctx.conn, user_id, cmd.thread_id)
