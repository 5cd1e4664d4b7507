"""RemoveProvider: the config, the stored key and every task route through the provider go in
one transaction. Removing what was never configured succeeds and records nothing. Threads bound
to the provider stay; chatting in them then answers `provider_not_configured`."""

from __future__ import annotations

from contracts.commands import RemoveProvider
from contracts.replies import Reply
from contracts.views import AckView
from threads.domain import provider_settings as domain
from threads.store.secrets import delete_secret
from threads.store.unit_of_work import HandlerContext
from threads.store.write_state import load_provider_settings


async def handle(ctx: HandlerContext[RemoveProvider]) -> Reply:
    cmd = ctx.command
    user_id = cmd.meta.user_id
    assert user_id is not None
    stream, version, state = await load_provider_settings(ctx, user_id)
    events = domain.decide_remove(state, cmd.provider, user_id=user_id)
    await delete_secret(ctx.conn, user_id, cmd.provider)
    await ctx.append(stream, version, events)
    return Reply.success(
        AckView(message=f"Provider {cmd.provider} removed").model_dump(mode="json")
    )
