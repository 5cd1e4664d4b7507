"""SetModelPrice → ModelPriceSet on the one `prices` stream: an admin's price of a model,
over the built-in one. No user owns it; it is sent by the threads CLI (roles come later)."""

from __future__ import annotations

from contracts.commands import SetModelPrice
from contracts.events import ModelPriceSet
from contracts.replies import Reply
from contracts.views import AckView
from threads.domain.text import require_text
from threads.store.event_store import stream_version
from threads.store.unit_of_work import HandlerContext

STREAM = "prices"


async def handle(ctx: HandlerContext[SetModelPrice]) -> Reply:
    cmd = ctx.command
    event = ModelPriceSet(
        provider=require_text(cmd.provider.strip(), "provider"),
        model=require_text(cmd.model.strip(), "model"),
        input_usd_per_mtok=cmd.input_usd_per_mtok,
        output_usd_per_mtok=cmd.output_usd_per_mtok,
        reasoning_usd_per_mtok=cmd.reasoning_usd_per_mtok,
    )
    await ctx.append(STREAM, await stream_version(ctx.conn, STREAM), [event])
    price = f"{event.input_usd_per_mtok}/{event.output_usd_per_mtok} USD per million tokens"
    return Reply.success(AckView(message=f"{event.provider} {event.model}: {price}").model_dump())
