"""ConfigureProvider → ProviderConfigured; the key itself goes to the secrets table in the same
transaction (an empty key deletes it), and the event records only `key_set` and the hint."""

from __future__ import annotations

from contracts.commands import ConfigureProvider
from contracts.replies import Reply
from threads.domain import provider_settings as domain
from threads.queries.providers import get_provider
from threads.store.crypto import KeyRing
from threads.store.secrets import delete_secret, put_secret
from threads.store.unit_of_work import HandlerContext
from threads.store.write_state import load_provider_settings


async def handle(ctx: HandlerContext[ConfigureProvider], *, keyring: KeyRing) -> Reply:
    cmd = ctx.command
    user_id = cmd.meta.user_id
    assert user_id is not None
    stream, version, state = await load_provider_settings(ctx, user_id)
    event = domain.decide_configure(state, cmd, user_id=user_id)
    if cmd.api_key_set:
        api_key = (cmd.api_key or "").strip()
        if api_key:
            await put_secret(ctx.conn, keyring, user_id, cmd.provider, api_key)
        else:
            await delete_secret(ctx.conn, user_id, cmd.provider)
    await ctx.append(stream, version, [event])
    view = await get_provider(ctx.conn, user_id, cmd.provider)
    return Reply.success(view.model_dump(mode="json"))
