"""Replay rebuilds exactly the live read models, online, and never loses a write made while
it runs."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts.base import Envelope
from contracts.commands import CreateThread, RegisterUser
from threads.handlers import create_thread, register_user
from threads.projections import default_projector
from threads.replay.runner import replay
from threads.store.event_store import StoredEvent
from threads.store.tables import threads
from threads.store.unit_of_work import UnitOfWork


async def seed(engine: AsyncEngine, n_threads: int = 5) -> uuid.UUID:
    work = UnitOfWork(engine, default_projector())
    user_id = uuid.uuid4()
    assert (
        await work.run(
            RegisterUser(user_id=user_id, email=f"{user_id}@ex.com", password_hash="h"),
            register_user.handle,
        )
    ).ok
    for i in range(n_threads):
        cmd = CreateThread(
            meta=Envelope(user_id=user_id),
            thread_id=uuid.uuid4(),
            title=f"t{i}",
            model_provider="echo",
        )
        reply = await work.run(
            cmd, lambda ctx: create_thread.handle(ctx, default_provider="anthropic")
        )
        assert reply.ok
    return user_id


async def test_check_finds_rebuilt_equal_to_live(engine: AsyncEngine) -> None:
    await seed(engine)
    report = await replay(engine, default_projector(), check=True)
    assert report.events > 0
    assert report.differences == []


async def test_check_reports_a_tampered_row(engine: AsyncEngine) -> None:
    user_id = await seed(engine, 1)
    async with engine.begin() as conn:
        await conn.execute(
            threads.update().where(threads.c.user_id == user_id).values(title="tampered")
        )
    report = await replay(engine, default_projector(), check=True)
    sides = {(d.table, d.side, d.row["title"]) for d in report.differences}
    assert ("threads", "live only", "tampered") in sides
    assert ("threads", "rebuilt only", "t0") in sides
    # the swap repairs it
    swapped = await replay(engine, default_projector())
    assert swapped.swapped
    async with engine.connect() as conn:
        title = await conn.scalar(select(threads.c.title).where(threads.c.user_id == user_id))
    assert title == "t0"
    assert (await replay(engine, default_projector(), check=True)).differences == []


async def test_writes_during_replay_are_kept(engine: AsyncEngine) -> None:
    """Writers keep committing while the bulk phase runs; after the swap every one of them is
    in the read models."""
    user_id = await seed(engine, 3)
    work = UnitOfWork(engine, default_projector())
    started = asyncio.Event()
    slow = default_projector()

    async def slowed(conn, event: StoredEvent) -> None:  # type: ignore[no-untyped-def]
        started.set()
        await asyncio.sleep(0.002)
        await slow(conn, event)

    async def writer() -> int:
        await started.wait()
        n = 0
        for _ in range(15):
            cmd = CreateThread(meta=Envelope(user_id=user_id), thread_id=uuid.uuid4())
            reply = await work.run(
                cmd, lambda ctx: create_thread.handle(ctx, default_provider="echo")
            )
            assert reply.ok
            n += 1
        return n

    writes = asyncio.create_task(writer())
    report = await replay(engine, slowed)  # type: ignore[arg-type]
    written = await writes
    assert report.swapped
    async with engine.connect() as conn:
        count = await conn.scalar(
            select(func.count()).select_from(threads).where(threads.c.user_id == user_id)
        )
    assert count == 3 + written
    assert (await replay(engine, default_projector(), check=True)).differences == []
