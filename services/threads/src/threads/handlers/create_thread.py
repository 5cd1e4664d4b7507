"""CreateThread → ThreadCreated, bound to a provider and model for its whole life."""

from __future__ import annotations

from sqlalchemy import select

from contracts.base import DomainEvent
from contracts.commands import CreateThread
from contracts.replies import Reply
from threads.domain import context, thread
from threads.queries.threads import fetch_thread
from threads.store.ownership import require_project
from threads.store.tables import task_routes
from threads.store.unit_of_work import HandlerContext


async def handle(ctx: HandlerContext[CreateThread], *, default_provider: str) -> Reply:
    cmd = ctx.command
    user_id = cmd.meta.user_id
    assert user_id is not None
    await require_project(ctx.conn, user_id, cmd.project_id)
    stream = thread.stream_id(cmd.thread_id)
    version, stored = await ctx.load(stream, thread.STATE_EVENTS)
    state = thread.fold([e.to_domain() for e in stored])
    provider = cmd.provider or default_provider
    routed = await ctx.conn.scalar(
        select(task_routes.c.model).where(
            task_routes.c.user_id == user_id,
            task_routes.c.task == "chat",
            task_routes.c.provider == provider,
        )
    )
    events: list[DomainEvent] = [
        *thread.decide_create(
            state, cmd, user_id=user_id, default_provider=default_provider, routed_model=routed
        ),
        *context.decide_on_create(cmd),
    ]
    await ctx.append(stream, version, events)
    view = await fetch_thread(ctx.conn, user_id, cmd.thread_id)
    assert view is not None
    return Reply.success(view.model_dump(mode="json"))
