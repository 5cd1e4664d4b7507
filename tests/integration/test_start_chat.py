"""StartChat through the unit of work on real Postgres: the thread, the earlier messages and the
chat are one append, so any part refused stores nothing at all (no thread, no event)."""

from __future__ import annotations

import functools
import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts.base import Envelope
from contracts.commands import EarlierMessage, StartChat
from tests.integration.conftest import Wired
from threads.domain.thread import CONTENT_MAX
from threads.handlers import start_chat
from threads.store.tables import events, threads


def _start(user_id: uuid.UUID, thread_id: uuid.UUID, **more: object) -> StartChat:
    return StartChat(
        meta=Envelope(user_id=user_id),
        thread_id=thread_id,
        user_message_id=uuid.uuid4(),
        assistant_message_id=uuid.uuid4(),
        content="and now?",
        provider="echo",
        model="echo",
        **more,  # type: ignore[arg-type]
    )


async def _stored(engine: AsyncEngine, thread_id: uuid.UUID) -> tuple[int, int]:
    async with engine.connect() as conn:
        rows = await conn.scalar(select(func.count()).where(threads.c.id == thread_id))
        stream = f"thread-{thread_id}"
        logged = await conn.scalar(select(func.count()).where(events.c.stream_id == stream))
    return int(rows or 0), int(logged or 0)


async def test_a_refused_part_stores_no_thread_and_the_whole_goes_in_one_append(
    wired: Wired, engine: AsyncEngine
) -> None:
    user_id = uuid.uuid4()
    handler = functools.partial(start_chat.handle, default_provider="echo")
    earlier = [EarlierMessage(message_id=uuid.uuid4(), role="user", content="first")]
    too_long = [
        EarlierMessage(message_id=uuid.uuid4(), role="user", content="x" * (CONTENT_MAX + 1))
    ]
    for refused in (
        _start(user_id, uuid.uuid4(), earlier=too_long),
        _start(user_id, uuid.uuid4(), earlier=earlier, parent_id=uuid.uuid4()),
    ):
        reply = await wired.service.uow.run(refused, handler)
        assert not reply.ok and reply.error is not None
        assert await _stored(engine, refused.thread_id) == (0, 0)

    cmd = _start(user_id, uuid.uuid4(), earlier=earlier)
    reply = await wired.service.uow.run(cmd, handler)
    assert reply.ok, reply.error
    assert reply.data is not None and reply.data["thread_id"] == str(cmd.thread_id)
    # ThreadCreated, MessagePosted, UserMessagePosted, AssistantMessageRequested
    assert await _stored(engine, cmd.thread_id) == (1, 4)
