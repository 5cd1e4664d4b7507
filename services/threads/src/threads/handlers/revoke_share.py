"""RevokeShare → ShareRevoked: the link answers 404 from then on."""

from __future__ import annotations

from sqlalchemy import select

from contracts.commands import RevokeShare
from contracts.replies import Reply
from threads.domain import sharing
from threads.domain.errors import not_found
from threads.store.ownership import owned_row
from threads.store.tables import shares
from threads.store.unit_of_work import HandlerContext
from threads.store.write_state import load_thread_for_write


async def handle(ctx: HandlerContext[RevokeShare]) -> Reply:
    cmd = ctx.command
    user_id = cmd.meta.user_id
    thread_id = await owned_row(
        ctx.conn, shares.c.thread_id, shares.c.share_id, cmd.share_id, user_id
    )
    if thread_id is None:
        raise not_found("Share")
    stream, version, state = await load_thread_for_write(ctx, thread_id)
    live = await ctx.conn.scalar(select(shares.c.share_id).where(shares.c.share_id == cmd.share_id))
    events = sharing.decide_revoke(
        state, user_id=user_id, share_id=cmd.share_id, live=live is not None
    )
    await ctx.append(stream, version, events)
    return Reply.success({"message": "Share revoked"})
