"""TouchApiKey: a key's last use, in its one `api_key_last_used` row. Not an event: the
gateways send it at most once a minute per key, and a use is not history worth replaying."""

from __future__ import annotations

from sqlalchemy import func, literal, select
from sqlalchemy.dialects.postgresql import insert

from contracts.commands import TouchApiKey
from contracts.replies import Reply
from contracts.views import AckView
from threads.store.tables import api_key_last_used, api_keys
from threads.store.unit_of_work import HandlerContext


async def handle(ctx: HandlerContext[TouchApiKey]) -> Reply:
    cmd = ctx.command
    live = select(api_keys.c.key_id, literal(cmd.used_at, api_key_last_used.c.last_used_at.type))
    stmt = insert(api_key_last_used).from_select(
        ["key_id", "last_used_at"],
        live.where(api_keys.c.key_id == cmd.key_id, api_keys.c.user_id == cmd.meta.user_id),
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["key_id"],
        set_={
            "last_used_at": func.greatest(
                api_key_last_used.c.last_used_at, stmt.excluded.last_used_at
            )
        },
    )
    await ctx.conn.execute(stmt)
    return Reply.success(AckView(message="API key use recorded").model_dump())
