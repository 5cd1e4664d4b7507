"""CreateApiKey → ApiKeyCreated on the key's own stream (`apikey-<key_id>`), with the keyed
hash the gateway made; the key itself never reaches this service."""

from __future__ import annotations

from contracts.base import utcnow
from contracts.commands import CreateApiKey
from contracts.events import ApiKeyCreated
from contracts.replies import Reply
from contracts.views import ApiKeyView
from threads.domain.errors import conflict, invalid
from threads.domain.text import require_text
from threads.store.event_store import stream_version
from threads.store.unit_of_work import HandlerContext


async def handle(ctx: HandlerContext[CreateApiKey]) -> Reply:
    cmd = ctx.command
    assert cmd.meta.user_id is not None
    name = require_text(cmd.name.strip(), "name")
    if not name:
        raise invalid("name must not be blank")
    if cmd.expires_at is not None and cmd.expires_at <= utcnow():
        raise invalid("expires_at must be in the future")
    stream = f"apikey-{cmd.key_id}"
    if await stream_version(ctx.conn, stream):
        raise conflict("API key id already used")
    event = ApiKeyCreated(
        key_id=cmd.key_id,
        user_id=cmd.meta.user_id,
        name=name,
        prefix=cmd.prefix,
        hash=cmd.hash,
        expires_at=cmd.expires_at,
    )
    stored = await ctx.append(stream, 0, [event])
    view = ApiKeyView(
        id=cmd.key_id,
        name=name,
        prefix=cmd.prefix,
        created_at=stored[0].recorded_at,
        expires_at=cmd.expires_at,
    )
    return Reply.success(view.model_dump(mode="json"))
