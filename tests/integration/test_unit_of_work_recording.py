"""A handler whose reply is settled before it appends (PostChat, CompleteAssistantMessage)
records its processed-command row in the append's own statement: the row is there with that
reply, a repeated command id still gets the first reply and appends nothing, and a handler that
returns another reply than the one it recorded is refused with nothing committed."""

from __future__ import annotations

import functools
import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts.base import Envelope
from contracts.commands import CreateThread, PostChat
from contracts.replies import Reply
from threads.handlers import create_thread, post_chat
from threads.projections import default_projector
from threads.store.tables import events, processed_commands
from threads.store.unit_of_work import HandlerContext, UnitOfWork


async def _thread(uow: UnitOfWork, meta: Envelope) -> uuid.UUID:
    thread_id = uuid.uuid4()
    reply = await uow.run(
        CreateThread(meta=meta, thread_id=thread_id, provider="echo", model="echo"),
        functools.partial(create_thread.handle, default_provider="echo"),
    )
    assert reply.ok, reply.error
    return thread_id


def _post(meta: Envelope, thread_id: uuid.UUID) -> PostChat:
    return PostChat(
        meta=meta,
        thread_id=thread_id,
        user_message_id=uuid.uuid4(),
        assistant_message_id=uuid.uuid4(),
        content="hello",
    )


async def _count(engine: AsyncEngine, cmd: PostChat) -> int:
    """Events appended by this command (a running worker may answer the chat meanwhile)."""
    async with engine.connect() as conn:
        return int(
            await conn.scalar(
                select(func.count())
                .select_from(events)
                .where(
                    events.c.stream_id == f"thread-{cmd.thread_id}",
                    events.c.metadata["command_id"].astext == cmd.command_id,
                )
            )
            or 0
        )


async def test_the_reply_is_recorded_with_the_events_and_a_repeat_gets_it(
    engine: AsyncEngine,
) -> None:
    uow = UnitOfWork(engine, default_projector())
    meta = Envelope(user_id=uuid.uuid4())
    thread_id = await _thread(uow, meta)
    cmd = _post(meta, thread_id)
    first = await uow.run(cmd, post_chat.handle)
    assert first.ok and not first.replayed
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                select(processed_commands).where(
                    processed_commands.c.actor == str(meta.user_id),
                    processed_commands.c.command_id == cmd.command_id,
                )
            )
        ).one()
    assert row.command_type == "PostChat"
    assert Reply.model_validate(row.reply) == first
    assert await _count(engine, cmd) == 2

    again = await uow.run(cmd, post_chat.handle)  # the same command id, e.g. a client retry
    assert again.replayed and again.data == first.data
    assert await _count(engine, cmd) == 2


async def test_a_handler_replying_other_than_it_recorded_commits_nothing(
    engine: AsyncEngine,
) -> None:
    uow = UnitOfWork(engine, default_projector())
    meta = Envelope(user_id=uuid.uuid4())
    thread_id = await _thread(uow, meta)

    async def inconsistent(ctx: HandlerContext[PostChat]) -> Reply:
        await post_chat.handle(ctx)
        return Reply.success({"something": "else"})

    cmd = _post(meta, thread_id)
    with pytest.raises(RuntimeError, match="replied other than it recorded"):
        await uow.run(cmd, inconsistent)
    assert await _count(engine, cmd) == 0
