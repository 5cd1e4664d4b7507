"""Replay rebuilds exactly the live read models, online, and never loses a write made while
it runs. The bulk phase applies the read models' changes in memory, the live path and the
catch-up compile the same changes to SQL; these tests hold the two interpreters to each other,
on edge cases the HTTP API rarely makes (tests/e2e/test_replay_equivalence.py covers the API)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio
from benchmarks.replay_seed import EVENT_COLUMNS, World
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from contracts.base import DomainEvent, Envelope
from contracts.commands import CreateThread, RegisterUser
from contracts.events import (
    EVENT_TYPES,
    AssistantMessageCancelled,
    AssistantMessageCompleted,
    AssistantMessageFailed,
    AssistantMessageRequested,
    DocumentAdded,
    DocumentDeleted,
    MessageDeleted,
    MessagePosted,
    ProjectCreated,
    ProjectDeleted,
    ProjectUpdated,
    ProviderConfigured,
    ProviderRemoved,
    TaskRoute,
    TaskRoutesSet,
    ThreadCreated,
    ThreadDeleted,
    ThreadMoved,
    ThreadRenamed,
    UserMessagePosted,
    UserRegistered,
)
from tests.support.database import create_migrated_database
from tests.support.servers import Infra
from threads.handlers import create_thread, register_user
from threads.projections import default_projector
from threads.queries.messages import thread_messages
from threads.replay import catch_up
from threads.replay.lock import ReplayAlreadyRunning
from threads.replay.runner import replay
from threads.store import event_store
from threads.store.event_store import StoredEvent, _row_to_event
from threads.store.tables import READ_MODELS, events, messages, projects, threads
from threads.store.unit_of_work import UnitOfWork


@pytest.fixture(scope="module")
def own_database_url(infra: Infra) -> str:
    return create_migrated_database(infra.admin_dsn, "sb_replay")


@pytest_asyncio.fixture(scope="module")
async def engine(own_database_url: str) -> AsyncIterator[AsyncEngine]:
    """A database of this module's own: its checks compare every read model with a rebuild,
    so rows the other tiers' tests leave behind in the shared one (fault tests tamper with
    the outbox on purpose) must not decide its answers."""
    eng = create_async_engine(own_database_url)
    yield eng
    await eng.dispose()


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
        await new_thread(work, user_id, f"t{i}")
    return user_id


async def new_thread(work: UnitOfWork, user_id: uuid.UUID, title: str = "t") -> None:
    cmd = CreateThread(
        meta=Envelope(user_id=user_id), thread_id=uuid.uuid4(), title=title, provider="echo"
    )
    reply = await work.run(cmd, lambda ctx: create_thread.handle(ctx, default_provider="echo"))
    assert reply.ok


async def append_in(conn: AsyncConnection, stream: str, new: Sequence[DomainEvent]) -> None:
    """What a handler's append does: the events and their projections, in `conn`'s
    transaction."""
    version = await event_store.stream_version(conn, stream)
    for stored in await event_store.append(conn, stream, version, new, Envelope()):
        await default_projector()(conn, stored)


async def append(engine: AsyncEngine, stream: str, *new: DomainEvent) -> None:
    async with engine.begin() as conn:
        await append_in(conn, stream, new)


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


async def test_memory_matches_sql_on_edge_cases(engine: AsyncEngine) -> None:
    """Sequences a client seldom makes, each a place where applying changes in memory could
    drift from their SQL: numbers JSON decoders disagree on, JSON null versus SQL NULL, an
    answer finishing after it was deleted, a thread created in a project that is gone, moves,
    renames, upserts, a v1 event read through its upcaster."""
    user, p1, p2, gone = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    t1, t2, t3, t4 = (uuid.uuid4() for _ in range(4))
    m1, m2, m3, m4 = (uuid.uuid4() for _ in range(4))
    await append(
        engine,
        f"user-{user}",
        UserRegistered(user_id=user, email=f"{user}@ex.com", display_name="É", password_hash="h"),
    )
    for pid, name in ((p1, "one"), (p2, "two")):
        await append(
            engine,
            f"project-{pid}",
            ProjectCreated(project_id=pid, user_id=user, name=name, description=None),
        )

    def created(tid: uuid.UUID, pid: uuid.UUID | None) -> ThreadCreated:
        return ThreadCreated(
            thread_id=tid,
            user_id=user,
            project_id=pid,
            title="a thread",
            provider="echo",
            model="echo",
            thread_type="ba_assistant",
            agent_type="chat",
        )

    await append(engine, f"thread-{t1}", created(t1, p1))
    await append(engine, f"thread-{t2}", created(t2, None))
    await append(engine, f"thread-{t3}", created(t3, gone))  # a project never created
    odd: dict[str, Any] = {"big": 2**70, "float": 0.1, "exp": 1e300, "list": [1, "✓", None]}
    await append(
        engine,
        f"thread-{t1}",
        MessagePosted(message_id=m1, thread_id=t1, role="user", content="hé ✓", metadata=odd),
        MessagePosted(message_id=m2, thread_id=t1, role="assistant", content="no json"),
        UserMessagePosted(message_id=m3, thread_id=t1, content="q", artifact_data=odd),
        AssistantMessageRequested(
            message_id=m4,
            thread_id=t1,
            user_id=user,
            user_message_id=m3,
            provider="echo",
            model="echo",
            attempt=2,
        ),
        MessageDeleted(message_id=m4, thread_id=t1),
        # finishing an answer that was deleted while it streamed changes nothing
        AssistantMessageCompleted(
            message_id=m4, thread_id=t1, content="late", finish_reason="stop", attempt=2
        ),
    )
    answers = [uuid.uuid4() for _ in range(3)]
    for mid in answers:
        await append(
            engine,
            f"thread-{t2}",
            AssistantMessageRequested(
                message_id=mid,
                thread_id=t2,
                user_id=user,
                user_message_id=m3,
                provider="openai",
                model="gpt",
            ),
        )
    await append(
        engine,
        f"thread-{t2}",
        # each outcome keeps the reasoning streamed apart from its content (or none)
        AssistantMessageCompleted(
            message_id=answers[0],
            thread_id=t2,
            content="done",
            finish_reason="stop",
            reasoning="thought first",
        ),
        AssistantMessageFailed(
            message_id=answers[1],
            thread_id=t2,
            code="provider_error",
            error="boom",
            content="pa",
            reasoning="half a thought",
        ),
        AssistantMessageCancelled(
            message_id=answers[2], thread_id=t2, content="par", attempt=3, reasoning="thin"
        ),
        ThreadRenamed(thread_id=t2, title="renamed", generated=True),
        ThreadMoved(thread_id=t2, from_project_id=None, to_project_id=p2),
    )
    await append(
        engine,
        f"thread-{t1}",
        ThreadMoved(thread_id=t1, from_project_id=p1, to_project_id=p2),
        ThreadMoved(thread_id=t1, from_project_id=p2, to_project_id=None),
        ThreadMoved(thread_id=t1, from_project_id=None, to_project_id=p1),
    )
    await append(engine, f"project-{p1}", ProjectUpdated(project_id=p1, name="uno"))
    await append(
        engine,
        f"project-{p2}",
        ProjectUpdated(project_id=p2, description="text", description_set=True),
        ProjectUpdated(project_id=p2, name="dos", description=None, description_set=True),
    )
    await append(engine, f"project-{gone}", ProjectUpdated(project_id=gone, name="ghost"))
    docs = [uuid.uuid4() for _ in range(4)]
    scopes: list[tuple[uuid.UUID, uuid.UUID | None, uuid.UUID | None]] = [
        (docs[0], p1, None),
        (docs[1], None, t1),
        (docs[2], p2, None),
    ]
    for did, in_project, in_thread in scopes:
        await append(
            engine,
            f"document-{did}",
            DocumentAdded(
                document_id=did,
                user_id=user,
                project_id=in_project,
                thread_id=in_thread,
                filename="a.txt",
                content_type="text/plain",
                content="x",
                size=1,
            ),
        )
    await append(engine, f"document-{docs[2]}", DocumentDeleted(document_id=docs[2]))
    await append(engine, f"project-{p1}", ProjectDeleted(project_id=p1))
    await append(engine, f"thread-{t3}", ThreadDeleted(thread_id=t3))
    await append(engine, f"thread-{t4}", created(t4, p2))
    await append(engine, f"thread-{t4}", ThreadDeleted(thread_id=t4))
    configured = {"base_url": None, "enabled": True, "key_set": True, "key_hint": "abcd"}
    await append(
        engine,
        f"providers-{user}",
        ProviderConfigured(user_id=user, provider="openai", **configured),
        ProviderConfigured(user_id=user, provider="openai", **{**configured, "enabled": False}),
        ProviderConfigured(user_id=user, provider="anthropic", **configured),
        TaskRoutesSet(
            user_id=user,
            use_separate_models=True,
            routes=[
                TaskRoute(task="chat", provider="openai", model="gpt"),
                TaskRoute(task="title", provider="anthropic", model="claude"),
            ],
        ),
        ProviderRemoved(user_id=user, provider="anthropic"),
        TaskRoutesSet(
            user_id=user,
            use_separate_models=True,
            routes=[TaskRoute(task="chat", provider="openai", model="gpt")],
        ),
    )
    await append_v1_thread(engine, user)

    report = await replay(engine, default_projector(), check=True)
    assert report.differences == []
    async with engine.connect() as conn:  # the case really is in there
        counts = (
            await conn.execute(select(projects.c.thread_count).where(projects.c.id == p2))
        ).scalar_one()
    assert counts == 1
    async with engine.connect() as conn:  # the reasoning too, rebuilt beside the content
        kept = await conn.execute(
            select(messages.c.id, messages.c.reasoning).where(messages.c.id.in_(answers))
        )
        reasoning = {row.id: row.reasoning for row in kept}
    assert [reasoning[a] for a in answers] == ["thought first", "half a thought", "thin"]


def simulated_log_with_every_event_type(events: int, seeds: range = range(1, 100)) -> list[Any]:
    """The first seed's log (of about `events` events) that has every event type."""
    for seed in seeds:
        world = World(seed, datetime.now(UTC) - timedelta(days=1))
        rows = [row for batch in world.batches(events) for row in batch]
        if {row[3] for row in rows} == set(EVENT_TYPES):
            return rows
    raise AssertionError(f"no seed makes every event type in {events} events")


async def _simulated(engine: AsyncEngine, seeds: range) -> list[StoredEvent]:
    rows = simulated_log_with_every_event_type(1500, seeds)
    values = [
        {
            **dict(zip(EVENT_COLUMNS, row, strict=True)),
            "data": json.loads(row[5]),
            "metadata": json.loads(row[6]),
        }
        for row in rows
    ]
    async with engine.begin() as conn:
        await conn.execute(events.insert(), values)
        stored = await conn.execute(
            select(events)
            .where(events.c.event_id.in_([v["event_id"] for v in values]))
            .order_by(events.c.global_position)
        )
        return [_row_to_event(row) for row in stored.all()]


async def test_memory_matches_sql_on_a_simulated_workload(engine: AsyncEngine) -> None:
    """The benchmark's simulated log at small scale (every event type, in the interleavings a
    busy system makes), projected live event by event, then rebuilt in memory."""
    async with engine.begin() as conn:
        for event in await _simulated(engine, range(1, 100)):
            await default_projector()(conn, event)
    report = await replay(engine, default_projector(), check=True)
    assert report.differences == []


async def test_changes_compiled_together_match_memory(engine: AsyncEngine) -> None:
    """The same kind of log projected eight consecutive events at a time, each window's changes
    compiled together as one append's are: far more varied sequences than any handler appends
    (several streams, creations, moves, messages, outcomes and deletions in one compilation,
    each event with its own time), and still the rows the events make one by one."""
    projector = default_projector()
    log = await _simulated(engine, range(100, 200))
    async with engine.begin() as conn:
        for start in range(0, len(log), 8):
            await projector.project_all(conn, log[start : start + 8])
    report = await replay(engine, default_projector(), check=True)
    assert report.differences == []


async def append_v1_thread(engine: AsyncEngine, user: uuid.UUID) -> None:
    """A ThreadCreated as stored before providers existed: replay reads it upcast."""
    tid = uuid.uuid4()
    async with engine.begin() as conn:
        await conn.execute(
            events.insert().values(
                stream_id=f"thread-{tid}",
                stream_version=1,
                event_id=uuid.uuid4(),
                event_type="ThreadCreated",
                schema_version=1,
                data={
                    "thread_id": str(tid),
                    "user_id": str(user),
                    "project_id": None,
                    "title": "v1",
                },
                metadata={},
            )
        )
        _, loaded = await event_store.load_stream(conn, f"thread-{tid}")
        await default_projector()(conn, loaded[0])


async def test_writes_during_replay_are_kept(engine: AsyncEngine) -> None:
    """Writers keep committing while the replay runs, one commits late with a lower position,
    more land between the bulk phase and the catch-up: after the swap every one of them is in
    the read models."""
    user_id = await seed(engine, 3)
    work = UnitOfWork(engine, default_projector())
    started = asyncio.Event()

    async def racing_writer() -> int:
        await started.wait()
        for _ in range(15):
            await new_thread(work, user_id)
        return 15

    late_project = uuid.uuid4()
    async with engine.connect() as late:
        # appended before the replay's snapshot, committed after it: a lower position than
        # events the bulk phase read, invisible to it
        await late.begin()
        await append_in(
            late,
            f"project-{late_project}",
            [ProjectCreated(project_id=late_project, user_id=user_id, name="late", description="")],
        )

        async def between_bulk_and_catch_up() -> None:
            await late.commit()
            for _ in range(5):
                await new_thread(work, user_id)

        writes = asyncio.create_task(racing_writer())
        report = await replay(
            engine,
            default_projector(),
            progress=lambda done, total: started.set(),
            before_catch_up=between_bulk_and_catch_up,
        )
        written = await writes
    assert report.swapped
    assert report.caught_up >= 1 + 5
    async with engine.connect() as conn:
        count = await conn.scalar(
            select(func.count()).select_from(threads).where(threads.c.user_id == user_id)
        )
        late_name = await conn.scalar(select(projects.c.name).where(projects.c.id == late_project))
    assert count == 3 + written + 5
    assert late_name == "late"
    assert (await replay(engine, default_projector(), check=True)).differences == []


async def test_catch_up_goes_in_rounds_while_writers_keep_writing(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a round's threshold of one event, writers keep the catch-up going round after
    round until the locked one: none of their writes is lost, the rebuild equals the live."""
    monkeypatch.setattr(catch_up, "ENOUGH_FOR_THE_LOCK", 1)
    rounds: list[int] = []
    apply_unseen = catch_up._apply_unseen

    async def counted(conn: AsyncConnection, projector: Any, snapshot: str) -> int:
        rounds.append(await apply_unseen(conn, projector, snapshot))
        return rounds[-1]

    monkeypatch.setattr(catch_up, "_apply_unseen", counted)
    user_id = await seed(engine, 1)
    work = UnitOfWork(engine, default_projector())
    stop = asyncio.Event()

    async def writer() -> int:
        n = 0
        while not stop.is_set() or n < 5:
            await new_thread(work, user_id)
            n += 1
        return n

    async def start_writing() -> None:
        for _ in range(3):
            await new_thread(work, user_id)

    writes = asyncio.create_task(writer())
    report = await replay(engine, default_projector(), before_catch_up=start_writing)
    stop.set()
    written = await writes
    assert report.swapped and report.caught_up >= 3
    assert len(rounds) >= 3 and sum(rounds) == report.caught_up  # unlocked rounds, then locked
    async with engine.connect() as conn:
        count = await conn.scalar(
            select(func.count()).select_from(threads).where(threads.c.user_id == user_id)
        )
    assert count == 1 + 3 + written
    assert (await replay(engine, default_projector(), check=True)).differences == []


async def test_check_compares_in_one_snapshot_while_writers_write(engine: AsyncEngine) -> None:
    """A check takes no lock: writes go on during all of it and it still finds no difference."""
    user_id = await seed(engine, 1)
    work = UnitOfWork(engine, default_projector())
    stop = asyncio.Event()

    async def writer() -> int:
        n = 0
        while not stop.is_set() or n < 5:
            await new_thread(work, user_id)
            n += 1
        return n

    writes = asyncio.create_task(writer())
    report = await replay(engine, default_projector(), check=True)
    stop.set()
    await writes
    assert report.differences == [] and not report.swapped and report.lock_seconds == 0


async def _catalog(engine: AsyncEngine) -> list[tuple[Any, ...]]:
    names = [t.name for t in READ_MODELS]
    async with engine.connect() as conn:
        constraints = await conn.execute(
            text(
                "SELECT c.relname, con.conname, pg_get_constraintdef(con.oid)"
                " FROM pg_constraint con"
                " JOIN pg_class c ON c.oid = con.conrelid"
                " WHERE c.relnamespace = 'public'::regnamespace AND c.relname = ANY(:names)"
            ),
            {"names": names},
        )
        indexes = await conn.execute(
            text(
                "SELECT tablename, indexname, indexdef FROM pg_indexes"
                " WHERE schemaname = 'public' AND tablename = ANY(:names)"
            ),
            {"names": names},
        )
        columns = await conn.execute(
            text(
                "SELECT table_name, column_name, ordinal_position, data_type, is_nullable,"
                " column_default, character_maximum_length FROM information_schema.columns"
                " WHERE table_schema = 'public' AND table_name = ANY(:names)"
            ),
            {"names": names},
        )
        return sorted(tuple(r) for result in (constraints, indexes, columns) for r in result.all())


async def test_swap_leaves_the_schema_the_migrations_made(engine: AsyncEngine) -> None:
    """Same columns, defaults, keys, constraint and index names and definitions: the tables are
    built bare from the metadata and keyed after the load."""
    await seed(engine, 1)
    before = await _catalog(engine)
    assert any("uq_users_email" in str(row) for row in before)
    assert (await replay(engine, default_projector())).swapped
    assert await _catalog(engine) == before


async def test_one_replay_at_a_time(engine: AsyncEngine) -> None:
    """The shadow schema's name is fixed: a second replay is refused while one runs."""
    await seed(engine, 1)
    refused: list[str] = []

    async def second_replay() -> None:
        with pytest.raises(ReplayAlreadyRunning) as info:
            await replay(engine, default_projector(), check=True)
        refused.append(str(info.value))

    report = await replay(engine, default_projector(), check=True, before_catch_up=second_replay)
    assert report.differences == []
    assert refused and "another replay is running" in refused[0]
    # the lock went with the first replay
    assert (await replay(engine, default_projector(), check=True)).differences == []


async def test_a_thread_stored_before_the_tree_reads_as_a_chain(engine: AsyncEngine) -> None:
    """Message events in their v1 shape (no parent, single deletes), projected as the live path
    projected them and rebuilt by replay: each message follows the one before it, a deleted
    message's follower follows its parent, the last message is the active leaf."""
    user = await seed(engine, 0)
    tid = uuid.uuid4()
    m1, q, a, m3 = (uuid.uuid4() for _ in range(4))
    t = str(tid)
    v1 = [
        ("MessagePosted", {"message_id": str(m1), "thread_id": t, "role": "user", "content": "1"}),
        ("UserMessagePosted", {"message_id": str(q), "thread_id": t, "content": "q"}),
        ("MessagePosted", {"message_id": str(m3), "thread_id": t, "role": "user", "content": "3"}),
        ("MessageDeleted", {"message_id": str(q), "thread_id": t}),
        ("MessageDeleted", {"message_id": str(m3), "thread_id": t}),
    ]
    await append(
        engine,
        f"thread-{tid}",
        ThreadCreated(
            thread_id=tid,
            user_id=user,
            project_id=None,
            title="old",
            provider="echo",
            model="echo",
            thread_type="assistant",
            agent_type="chat",
        ),
    )
    answer = AssistantMessageRequested(
        message_id=a,
        thread_id=tid,
        user_id=user,
        user_message_id=q,
        provider="echo",
        model="echo",
    ).model_dump(mode="json", exclude={"schema_version"})
    rows = [*v1[:2], ("AssistantMessageRequested", answer), *v1[2:]]
    async with engine.begin() as conn:
        for version, (event_type, data) in enumerate(rows, start=2):
            await conn.execute(
                events.insert().values(
                    stream_id=f"thread-{tid}",
                    stream_version=version,
                    event_id=uuid.uuid4(),
                    event_type=event_type,
                    schema_version=2 if event_type == "AssistantMessageRequested" else 1,
                    data=data,
                    metadata={},
                )
            )
        _, loaded = await event_store.load_stream(conn, f"thread-{tid}")
        for stored in loaded[1:]:
            await default_projector()(conn, stored)

    async def tree() -> tuple[dict[uuid.UUID, uuid.UUID | None], uuid.UUID | None, int]:
        async with engine.connect() as conn:
            parents = dict(
                (
                    await conn.execute(
                        select(messages.c.id, messages.c.parent_id).where(
                            messages.c.thread_id == tid
                        )
                    )
                ).all()
            )
            row = (
                await conn.execute(
                    select(threads.c.active_leaf_id, threads.c.message_count).where(
                        threads.c.id == tid
                    )
                )
            ).one()
        return parents, row.active_leaf_id, row.message_count

    assert await tree() == ({m1: None, a: m1}, a, 2)
    report = await replay(engine, default_projector(), check=True)
    assert report.differences == []
    assert (await replay(engine, default_projector())).swapped
    assert await tree() == ({m1: None, a: m1}, a, 2)
    async with engine.connect() as conn:
        path = await thread_messages(conn, tid)
    assert [(m.id, m.parent_id, m.sibling_index, m.sibling_count) for m in path] == [
        (m1, None, 0, 1),
        (a, m1, 0, 1),
    ]
