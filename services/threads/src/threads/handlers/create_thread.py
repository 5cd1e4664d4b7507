"""CreateThread → ThreadCreated, bound to a provider and model for its whole life."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from contracts.base import DomainEvent
from contracts.commands import CreateThread
from contracts.replies import Reply
from threads.domain import context, thread
from threads.queries.threads import thread_reply
from threads.store.ownership import require_project
from threads.store.tables import task_routes
from threads.store.unit_of_work import HandlerContext


async def creation(
    ctx: HandlerContext[Any], cmd: CreateThread, *, default_provider: str
) -> tuple[str, int, list[DomainEvent]]:
    """The thread's stream, its version and the events creating the thread (`StartChat` adds
    its own to them)."""
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
    return stream, version, events


async def handle(ctx: HandlerContext[CreateThread], *, default_provider: str) -> Reply:
    cmd = ctx.command
    stream, version, events = await creation(ctx, cmd, default_provider=default_provider)
    await ctx.append(stream, version, events)
    return await thread_reply(ctx.conn, cmd.meta.user_id, cmd.thread_id)
