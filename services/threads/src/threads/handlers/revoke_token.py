"""RevokeToken (logout) → TokenRevoked on the token's own stream (`session-<jti>`): every
gateway hears it and refuses the token until it would have expired. A second logout of the
same token changes nothing."""

from __future__ import annotations

from contracts.commands import RevokeToken
from contracts.events import TokenRevoked
from contracts.replies import Reply
from contracts.views import AckView
from threads.store.event_store import stream_version
from threads.store.unit_of_work import HandlerContext

DONE = AckView(message="Logged out").model_dump()


async def handle(ctx: HandlerContext[RevokeToken]) -> Reply:
    cmd = ctx.command
    assert cmd.meta.user_id is not None
    stream = f"session-{cmd.jti}"
    if await stream_version(ctx.conn, stream):
        return Reply.success(DONE)
    event = TokenRevoked(jti=cmd.jti, user_id=cmd.meta.user_id, expires_at=cmd.expires_at)
    await ctx.append(stream, 0, [event])
    return Reply.success(DONE)
