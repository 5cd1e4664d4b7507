"""RegisterUser → UserRegistered (email unique, compared case-insensitively)."""

from __future__ import annotations

from sqlalchemy import func, select

from contracts.commands import RegisterUser
from contracts.replies import Reply
from threads.domain import user
from threads.queries.views import user_view
from threads.store.tables import users
from threads.store.unit_of_work import HandlerContext


async def handle(ctx: HandlerContext[RegisterUser]) -> Reply:
    cmd = ctx.command
    cmd = cmd.model_copy(update={"email": cmd.email.strip().lower()})
    taken = await ctx.conn.scalar(
        select(func.count()).select_from(users).where(users.c.email == cmd.email)
    )
    version, _ = await ctx.load(user.stream_id(cmd.user_id))
    await ctx.append(
        user.stream_id(cmd.user_id),
        version,
        user.decide_register(version, cmd, email_taken=bool(taken)),
    )
    row = (await ctx.conn.execute(select(users).where(users.c.id == cmd.user_id))).one()
    return Reply.success(user_view(row).model_dump(mode="json"))
