"""The event store against real Postgres: optimistic concurrency, idempotent commands,
inline projections, upcasting."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts.base import Envelope
from contracts.commands import CreateThread, RegisterUser
from contracts.events import ThreadRenamed
from threads.config import Settings
from threads.handlers import create_thread, register_user
from threads.projections import default_projector
from threads.store import event_store
from threads.store.event_store import ConcurrencyError
from threads.store.tables import events, threads
from threads.store.unit_of_work import HandlerContext, UnitOfWork


def rename(thread_id: uuid.UUID, title: str) -> ThreadRenamed:
    return ThreadRenamed(thread_id=thread_id, title=title)


async def test_append_with_stale_expected_version_conflicts(engine: AsyncEngine) -> None:
    stream = f"thread-{uuid.uuid4()}"
    tid = uuid.uuid4()
    async with engine.begin() as conn:
        stored = await event_store.append(
            conn, stream, 0, [rename(tid, "a"), rename(tid, "b")], Envelope()
        )
    assert [e.version for e in stored] == [1, 2]
    assert stored[0].position < stored[1].position

    with pytest.raises(ConcurrencyError):
        async with engine.begin() as conn:
            await event_store.append(conn, stream, 1, [rename(tid, "stale")], Envelope())

    async with engine.begin() as conn:
        await event_store.append(conn, stream, 2, [rename(tid, "c")], Envelope())
        version, loaded = await event_store.load_stream(conn, stream)
    assert version == 3
    assert [e.data["title"] for e in loaded] == ["a", "b", "c"]


async def test_concurrent_appends_to_one_stream_one_wins(engine: AsyncEngine) -> None:
    stream = f"thread-{uuid.uuid4()}"
    tid = uuid.uuid4()

    async def writer(i: int) -> bool:
        try:
            async with engine.begin() as conn:
                await event_store.append(conn, stream, 0, [rename(tid, str(i))], Envelope())
            return True
        except ConcurrencyError:
            return False

    results = await asyncio.gather(*(writer(i) for i in range(5)))
    assert results.count(True) == 1
    async with engine.connect() as conn:
        assert await event_store.stream_version(conn, stream) == 1


def uow(engine: AsyncEngine) -> UnitOfWork:
    return UnitOfWork(engine, default_projector(), retries=5)


async def new_user(engine: AsyncEngine) -> uuid.UUID:
    user_id = uuid.uuid4()
    cmd = RegisterUser(user_id=user_id, email=f"{user_id}@example.com", password_hash="x")
    reply = await uow(engine).run(cmd, register_user.handle)
    assert reply.ok, reply
    return user_id


def create_handler(ctx: HandlerContext[CreateThread]):  # type: ignore[no-untyped-def]
    return create_thread.handle(ctx, default_provider=Settings().default_provider)


async def test_same_command_id_applies_once_and_replays_first_reply(
    engine: AsyncEngine,
) -> None:
    user_id = await new_user(engine)
    cmd = CreateThread(
        meta=Envelope(user_id=user_id), command_id="key:abc", thread_id=uuid.uuid4(), title="once"
    )
    first = await uow(engine).run(cmd, create_handler)
    retry = cmd.model_copy(update={"thread_id": uuid.uuid4()})  # a retry names a new id
    second = await uow(engine).run(retry, create_handler)
    assert first.ok and second.ok
    assert second.replayed and not first.replayed
    assert second.data == first.data
    async with engine.connect() as conn:
        count = await conn.scalar(
            select(text("count(*)")).select_from(threads).where(threads.c.user_id == user_id)
        )
    assert count == 1


async def test_idempotency_keys_are_per_user(engine: AsyncEngine) -> None:
    a, b = await new_user(engine), await new_user(engine)
    for user_id in (a, b):
        cmd = CreateThread(
            meta=Envelope(user_id=user_id), command_id="key:shared", thread_id=uuid.uuid4()
        )
        reply = await uow(engine).run(cmd, create_handler)
        assert reply.ok and not reply.replayed
        assert reply.data is not None and reply.data["user_id"] == str(user_id)


async def test_refusal_changes_nothing_and_is_remembered(engine: AsyncEngine) -> None:
    user_id = await new_user(engine)
    cmd = CreateThread(meta=Envelope(user_id=user_id), thread_id=uuid.uuid4(), provider="nope")
    reply = await uow(engine).run(cmd, create_handler)
    assert not reply.ok and reply.error is not None and reply.error.code == "invalid"
    async with engine.connect() as conn:
        n = await conn.scalar(
            select(text("count(*)"))
            .select_from(events)
            .where(events.c.stream_id == f"thread-{cmd.thread_id}")
        )
    assert n == 0
    again = await uow(engine).run(cmd, create_handler)
    assert again.replayed and again.error == reply.error


async def test_conflicting_handlers_retry_on_fresh_state(engine: AsyncEngine) -> None:
    """Two handlers race on one stream: the loser's append conflicts, it reruns on fresh
    state and both land, versions contiguous."""
    user_id = await new_user(engine)
    stream = f"thread-{uuid.uuid4()}"
    tid = uuid.uuid4()
    gate = asyncio.Event()
    calls: list[int] = []

    async def racing(ctx: HandlerContext[CreateThread]):  # type: ignore[no-untyped-def]
        version, _ = await ctx.load(stream)
        calls.append(version)
        await gate.wait()
        await ctx.append(stream, version, [rename(tid, f"v{version}")])
        from contracts.replies import Reply

        return Reply.success({"version": version + 1})

    work = uow(engine)
    tasks = [
        asyncio.create_task(
            work.run(CreateThread(meta=Envelope(user_id=user_id), thread_id=uuid.uuid4()), racing)
        )
        for _ in range(2)
    ]
    await asyncio.sleep(0.2)
    gate.set()
    replies = await asyncio.gather(*tasks)
    assert all(r.ok for r in replies), replies
    assert sorted(r.data["version"] for r in replies if r.data) == [1, 2]
    assert len(calls) == 3  # one handler ran twice
    async with engine.connect() as conn:
        version, loaded = await event_store.load_stream(conn, stream)
    assert version == 2 and [e.version for e in loaded] == [1, 2]


async def test_thread_created_v1_is_upcast_to_anthropic_ba_assistant(
    engine: AsyncEngine,
) -> None:
    """A ThreadCreated stored before providers and thread types existed reads and projects as
    anthropic / ba_assistant: the event-sourced form of a migration with a backfill."""
    user_id = await new_user(engine)
    thread_id = uuid.uuid4()
    v1_data = {
        "thread_id": str(thread_id),
        "user_id": str(user_id),
        "project_id": None,
        "title": "Old times",
    }
    async with engine.begin() as conn:
        await conn.execute(
            events.insert().values(
                stream_id=f"thread-{thread_id}",
                stream_version=1,
                event_id=uuid.uuid4(),
                event_type="ThreadCreated",
                schema_version=1,
                data=v1_data,
                metadata={},
            )
        )
        _, loaded = await event_store.load_stream(conn, f"thread-{thread_id}")
        event = loaded[0]
        assert event.schema_version == 3
        domain = event.to_domain()
        assert domain.provider == "anthropic"  # type: ignore[attr-defined]
        assert domain.thread_type == "ba_assistant"  # type: ignore[attr-defined]
        await default_projector()(conn, event)
        row = (await conn.execute(select(threads).where(threads.c.id == thread_id))).one()
    assert (row.provider, row.thread_type, row.title) == (
        "anthropic",
        "ba_assistant",
        "Old times",
    )
    stored = await _raw(engine, thread_id)
    assert stored == (1, v1_data)  # the stored row itself never changes


async def _raw(engine: AsyncEngine, thread_id: uuid.UUID) -> tuple[int, dict[str, object]]:
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                select(events.c.schema_version, events.c.data).where(
                    events.c.stream_id == f"thread-{thread_id}"
                )
            )
        ).one()
    return row.schema_version, row.data
