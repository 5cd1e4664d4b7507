"""SetTaskRoutes → TaskRoutesSet: replaces the user's routes as a whole, or refuses (400) and
changes nothing if any task or provider is unknown."""

from __future__ import annotations

from contracts.commands import SetTaskRoutes
from contracts.replies import Reply
from threads.domain import provider_settings as domain
from threads.queries.providers import get_task_routes
from threads.store.event_store import stream_version
from threads.store.unit_of_work import HandlerContext


async def handle(ctx: HandlerContext[SetTaskRoutes]) -> Reply:
    cmd = ctx.command
    user_id = cmd.meta.user_id
    assert user_id is not None
    event = domain.decide_routes(cmd, user_id=user_id)
    stream = domain.stream_id(user_id)
    version = await stream_version(ctx.conn, stream)  # appending at it orders us with removals
    await ctx.append(stream, version, [event])
    view = await get_task_routes(ctx.conn, user_id)
    return Reply.success(view.model_dump(mode="json"))
