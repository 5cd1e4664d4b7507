"""RegisterUser → UserRegistered (email unique, compared case-insensitively); the first account
of an empty deployment also gets UserRoleSet admin.

"First" is decided race-safe under the deployment's admin lock (`user.ADMINS_LOCK`, an
advisory lock held to commit): two first registrations at once queue on it, and the second
reads the users table after the first committed. Once any account exists the lock is not
taken: one cheap probe of the table says so."""

from __future__ import annotations

from sqlalchemy import exists, func, select

from contracts.commands import RegisterUser
from contracts.replies import Reply
from threads.domain import user
from threads.queries.views import user_view
from threads.store.locks import lock_stream
from threads.store.tables import users
from threads.store.unit_of_work import HandlerContext

_ANY_USER = select(exists().select_from(users))


async def handle(ctx: HandlerContext[RegisterUser]) -> Reply:
    cmd = ctx.command
    cmd = cmd.model_copy(update={"email": cmd.email.strip().lower()})
    first = not await ctx.conn.scalar(_ANY_USER)
    if first:
        await lock_stream(ctx.conn, user.ADMINS_LOCK)
        first = not await ctx.conn.scalar(_ANY_USER)
    taken = await ctx.conn.scalar(
        select(func.count()).select_from(users).where(users.c.email == cmd.email)
    )
    version, _ = await ctx.load(user.stream_id(cmd.user_id))
    await ctx.append(
        user.stream_id(cmd.user_id),
        version,
        user.decide_register(version, cmd, email_taken=bool(taken), first=first),
    )
    row = (await ctx.conn.execute(select(users).where(users.c.id == cmd.user_id))).one()
    return Reply.success(user_view(row).model_dump(mode="json"))
