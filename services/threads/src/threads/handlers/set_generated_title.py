"""SetGeneratedTitle → ThreadRenamed(generated) only while the thread is still `New Chat`."""

from __future__ import annotations

from contracts.commands import SetGeneratedTitle
from contracts.replies import Reply
from threads.domain import chat
from threads.store.unit_of_work import HandlerContext
from threads.store.write_state import load_thread_for_write


async def handle(ctx: HandlerContext[SetGeneratedTitle]) -> Reply:
    cmd = ctx.command
    stream, version, state = await load_thread_for_write(ctx, cmd.thread_id)
    events = chat.decide_set_generated_title(
        state,
        cmd.title,
        user_id=cmd.meta.user_id,
        provider=cmd.provider,
        model=cmd.model,
        usage=cmd.usage,
    )
    await ctx.append(stream, version, events)
    assert state is not None
    title = events[0].title if events else state.title  # type: ignore[attr-defined]
    return Reply.success({"thread_id": str(cmd.thread_id), "title": title, "applied": bool(events)})
