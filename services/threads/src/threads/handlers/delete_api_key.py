"""DeleteApiKey → ApiKeyDeleted: every gateway hears the event's subject and forgets the key
at once; another user's key is not found."""

from __future__ import annotations

from sqlalchemy import delete

from contracts.commands import DeleteApiKey
from contracts.events import ApiKeyDeleted
from contracts.replies import Reply
from contracts.views import AckView
from threads.domain.errors import not_found
from threads.store.event_store import stream_version
from threads.store.ownership import owned_row
from threads.store.tables import api_key_last_used, api_keys
from threads.store.unit_of_work import HandlerContext


async def handle(ctx: HandlerContext[DeleteApiKey]) -> Reply:
    cmd = ctx.command
    user_id = cmd.meta.user_id
    key_id = api_keys.c.key_id
    if await owned_row(ctx.conn, key_id, key_id, cmd.key_id, user_id) is None or user_id is None:
        raise not_found("API key")
    stream = f"apikey-{cmd.key_id}"
    event = ApiKeyDeleted(key_id=cmd.key_id, user_id=user_id)
    await ctx.append(stream, await stream_version(ctx.conn, stream), [event])
    await ctx.conn.execute(
        delete(api_key_last_used).where(api_key_last_used.c.key_id == cmd.key_id)
    )
    return Reply.success(AckView(message="API key deleted").model_dump())
