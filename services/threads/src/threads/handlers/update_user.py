"""UpdateUser (an admin's PATCH of a user) and SetUserRole (the operator's CLI): the user's
events, decided under the deployment's admin lock so the last enabled admin stays one."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from contracts.commands import SetUserRole, UpdateUser
from contracts.replies import Reply
from threads.domain import user
from threads.domain.errors import not_found
from threads.queries import admin
from threads.queries.views import user_view
from threads.store.locks import lock_stream
from threads.store.tables import users
from threads.store.unit_of_work import HandlerContext


async def handle(ctx: HandlerContext[UpdateUser]) -> Reply:
    cmd = ctx.command
    user.require_admin(await admin.user_row(ctx.conn, cmd.meta.user_id))
    await lock_stream(ctx.conn, user.ADMINS_LOCK)
    actor = await admin.user_row(ctx.conn, cmd.meta.user_id)
    target = await admin.user_row(ctx.conn, cmd.user_id)
    if target is None:
        raise not_found("User")
    events = user.decide_update(
        actor, target, cmd, enabled_admins=await admin.enabled_admins(ctx.conn)
    )
    stream = user.stream_id(cmd.user_id)
    if events:
        version, _ = await ctx.load(stream)
        await ctx.append(stream, version, events)
    row = await admin.user_row(ctx.conn, cmd.user_id)
    tokens = await admin.tokens_of(ctx.conn, [row.id], datetime.now(UTC).date())
    return Reply.success(admin.admin_user_view(row, tokens.get(row.id)).model_dump(mode="json"))


async def set_role(ctx: HandlerContext[SetUserRole]) -> Reply:
    cmd = ctx.command
    await lock_stream(ctx.conn, user.ADMINS_LOCK)
    email = cmd.email.strip().lower()
    target = (await ctx.conn.execute(select(users).where(users.c.email == email))).first()
    if target is None:
        raise not_found("User")
    events = user.decide_role(target, cmd.role, enabled_admins=await admin.enabled_admins(ctx.conn))
    if events:
        version, _ = await ctx.load(user.stream_id(target.id))
        await ctx.append(user.stream_id(target.id), version, events)
    row = await admin.user_row(ctx.conn, target.id)
    return Reply.success(user_view(row).model_dump(mode="json"))
