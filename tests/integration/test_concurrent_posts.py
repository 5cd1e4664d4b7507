"""Forty writers posting to one thread at the same moment, through the unit of work on real
Postgres (many connections, so they truly race): every post lands, versions are contiguous,
the count is right. The stream lock makes them queue instead of exhausting their retries."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from contracts.base import Envelope
from contracts.commands import CreateThread, PostMessage, RegisterUser
from threads.handlers import create_thread, post_message, register_user
from threads.projections import default_projector
from threads.store import event_store
from threads.store.tables import messages, threads
from threads.store.unit_of_work import UnitOfWork


async def test_forty_concurrent_posts_all_land(database_url: str) -> None:
    engine = create_async_engine(database_url, pool_size=20, max_overflow=20)
    try:
        uow = UnitOfWork(engine, default_projector(), retries=5)
        user_id = uuid.uuid4()
        reply = await uow.run(
            RegisterUser(user_id=user_id, email=f"{user_id}@example.com", password_hash="x"),
            register_user.handle,
        )
        assert reply.ok
        thread_id = uuid.uuid4()
        meta = Envelope(user_id=user_id)
        reply = await uow.run(
            CreateThread(meta=meta, thread_id=thread_id),
            lambda ctx: create_thread.handle(ctx, default_provider="echo"),
        )
        assert reply.ok

        posts = [
            PostMessage(
                meta=meta,
                thread_id=thread_id,
                message_id=uuid.uuid4(),
                role="user",
                content=f"#{i}",
            )
            for i in range(40)
        ]
        replies = await asyncio.gather(*(uow.run(p, post_message.handle) for p in posts))
        assert all(r.ok for r in replies), [r.error for r in replies if not r.ok]

        async with engine.connect() as conn:
            version, stored = await event_store.load_stream(conn, f"thread-{thread_id}")
            count = await conn.scalar(
                select(threads.c.message_count).where(threads.c.id == thread_id)
            )
            rows = (
                await conn.execute(
                    select(messages.c.id, messages.c.seq)
                    .where(messages.c.thread_id == thread_id)
                    .order_by(messages.c.seq)
                )
            ).all()
        assert version == 41 and [e.version for e in stored] == list(range(1, 42))
        assert count == 40
        posted = [uuid.UUID(e.data["message_id"]) for e in stored if e.type == "MessagePosted"]
        assert [r.id for r in rows] == posted
        assert [r.seq for r in rows] == [e.position for e in stored[1:]]
    finally:
        await engine.dispose()
