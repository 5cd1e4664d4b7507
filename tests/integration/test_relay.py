"""The outbox relay against real Postgres and JetStream: every committed event reaches the
stream EVENTS exactly once, even one whose transaction commits after a later position."""

from __future__ import annotations

import asyncio
import uuid

import nats
import orjson
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts.base import Envelope
from contracts.events import ThreadRenamed, UserRegistered
from contracts.subjects import EVENTS_STREAM
from tests.support.servers import Infra
from threads.projections import default_projector
from threads.store import event_store
from threads.store.relay import RELAY_LOCK_KEY, OutboxRelay
from threads.store.tables import outbox


async def read_subject(
    js: JetStreamContext, subject: str, expect: int, timeout: float = 5.0
) -> list[dict[str, object]]:
    """Everything on `subject`, waiting until `expect` messages or the timeout."""
    sub = await js.subscribe(
        subject, ordered_consumer=True, config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL)
    )
    out: list[dict[str, object]] = []
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(out) < expect:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                break
            try:
                msg = await sub.next_msg(timeout=min(remaining, 0.5))
            except Exception:
                continue
            out.append({"headers": msg.headers, **orjson.loads(msg.data)})
        # anything beyond `expect` would be a duplicate: give it a moment to show up
        try:
            extra = await sub.next_msg(timeout=0.3)
            out.append({"headers": extra.headers, **orjson.loads(extra.data)})
        except Exception:
            pass
    finally:
        await sub.unsubscribe()
    return out


async def test_relay_publishes_with_msg_id_and_clears_outbox(
    engine: AsyncEngine, js: JetStreamContext
) -> None:
    tid = uuid.uuid4()
    async with engine.begin() as conn:
        stored = await event_store.append(
            conn,
            f"thread-{tid}",
            0,
            [ThreadRenamed(thread_id=tid, title=t) for t in ("a", "b", "c")],
            Envelope(),
        )
    relay = OutboxRelay(engine, js)
    while await relay.publish_pending():
        pass
    got = await read_subject(js, f"events.thread.{tid}.>", expect=3)
    assert [g["data"]["title"] for g in got] == ["a", "b", "c"]  # type: ignore[index]
    assert [g["headers"]["Nats-Msg-Id"] for g in got] == [str(e.event_id) for e in stored]  # type: ignore[index]
    assert [g["version"] for g in got] == [1, 2, 3]
    async with engine.connect() as conn:
        left = await conn.scalar(
            select(func.count())
            .select_from(outbox)
            .where(outbox.c.global_position.in_([e.position for e in stored]))
        )
    assert left == 0


async def test_event_committed_late_is_not_skipped(
    engine: AsyncEngine, js: JetStreamContext
) -> None:
    """Marten's open-transaction technique: T1 takes the lower position and stays open while
    T2 commits a higher one and the relay runs; when T1 commits, its event still goes out,
    and nothing is published twice."""
    early, late = uuid.uuid4(), uuid.uuid4()
    relay = OutboxRelay(engine, js)
    while await relay.publish_pending():  # drain what other tests left
        pass

    conn1 = await engine.connect()
    tx1 = await conn1.begin()
    first = await event_store.append(
        conn1, f"thread-{early}", 0, [ThreadRenamed(thread_id=early, title="early")], Envelope()
    )
    async with engine.begin() as conn2:
        second = await event_store.append(
            conn2, f"thread-{late}", 0, [ThreadRenamed(thread_id=late, title="late")], Envelope()
        )
    assert first[0].position < second[0].position

    while await relay.publish_pending():
        pass
    assert [
        g["data"]["title"]
        for g in await read_subject(  # type: ignore[index]
            js, f"events.thread.{late}.>", expect=1
        )
    ] == ["late"]
    assert await read_subject(js, f"events.thread.{early}.>", expect=1, timeout=0.5) == []

    await tx1.commit()
    await conn1.close()
    while await relay.publish_pending():
        pass
    early_msgs = await read_subject(js, f"events.thread.{early}.>", expect=1)
    assert [g["data"]["title"] for g in early_msgs] == ["early"]  # type: ignore[index]
    assert len(await read_subject(js, f"events.thread.{late}.>", expect=1)) == 1


async def test_rolled_back_event_is_never_published(
    engine: AsyncEngine, js: JetStreamContext
) -> None:
    tid = uuid.uuid4()
    async with engine.connect() as conn:
        tx = await conn.begin()
        await event_store.append(
            conn, f"thread-{tid}", 0, [ThreadRenamed(thread_id=tid, title="never")], Envelope()
        )
        await tx.rollback()
    relay = OutboxRelay(engine, js)
    while await relay.publish_pending():
        pass
    assert await read_subject(js, f"events.thread.{tid}.>", expect=1, timeout=0.5) == []


async def test_republish_after_crash_is_deduplicated_by_msg_id(
    engine: AsyncEngine, js: JetStreamContext
) -> None:
    """A relay that published but died before deleting its outbox rows publishes again; the
    stream keeps one copy (Nats-Msg-Id inside the duplicate window)."""
    tid = uuid.uuid4()
    async with engine.begin() as conn:
        stored = await event_store.append(
            conn, f"thread-{tid}", 0, [ThreadRenamed(thread_id=tid, title="dup")], Envelope()
        )
    relay = OutboxRelay(engine, js)
    while await relay.publish_pending():
        pass
    async with engine.begin() as conn:  # simulate the crash: the row is back in the outbox
        await conn.execute(outbox.insert().values(global_position=stored[0].position))
    while await relay.publish_pending():
        pass
    info = await js.stream_info(EVENTS_STREAM)
    assert info.state.messages >= 1
    assert len(await read_subject(js, f"events.thread.{tid}.>", expect=1)) == 1


async def test_a_relay_without_the_lock_publishes_nothing(
    engine: AsyncEngine, js: JetStreamContext
) -> None:
    """One relay at a time: while another holds the relay lock, a relay leaves the outbox as
    it is (any number of service replicas can run one)."""
    tid = uuid.uuid4()
    async with engine.begin() as conn:
        stored = await event_store.append(
            conn, f"thread-{tid}", 0, [ThreadRenamed(thread_id=tid, title="held")], Envelope()
        )
    relay = OutboxRelay(engine, js)
    async with engine.begin() as holder:
        await holder.execute(select(func.pg_advisory_xact_lock(RELAY_LOCK_KEY)))
        assert await relay.publish_pending() == 0
        async with engine.connect() as conn:
            left = await conn.scalar(
                select(func.count())
                .select_from(outbox)
                .where(outbox.c.global_position == stored[0].position)
            )
        assert left == 1
    while await relay.publish_pending():
        pass
    got = await read_subject(js, f"events.thread.{tid}.>", expect=1)
    assert [g["data"]["title"] for g in got] == ["held"]  # type: ignore[index]


async def test_private_fields_stay_in_the_store(engine: AsyncEngine, js: JetStreamContext) -> None:
    """A password hash is stored with its UserRegistered event but never published."""
    uid = uuid.uuid4()
    async with engine.begin() as conn:
        stored = await event_store.append(
            conn,
            f"user-{uid}",
            0,
            [
                UserRegistered(
                    user_id=uid,
                    email=f"{uid}@x.com",
                    display_name=None,
                    password_hash="$argon2id$secret",
                )
            ],
            Envelope(),
        )
        # Projected too, as a command would, so the read models stay what the events say.
        await default_projector()(conn, stored[0])
    relay = OutboxRelay(engine, js)
    while await relay.publish_pending():
        pass
    got = await read_subject(js, f"events.user.{uid}.>", expect=1)
    assert len(got) == 1
    assert got[0]["data"] == {"user_id": str(uid), "email": f"{uid}@x.com", "display_name": None}


async def outbox_has(engine: AsyncEngine, positions: list[int]) -> int:
    async with engine.connect() as conn:
        return int(
            await conn.scalar(
                select(func.count())
                .select_from(outbox)
                .where(outbox.c.global_position.in_(positions))
            )
            or 0
        )


async def test_a_commit_publishes_its_events_at_once(
    engine: AsyncEngine, js: JetStreamContext
) -> None:
    """The commit hook publishes the command's events without reading them back and drops
    their outbox rows; the polling loop is not needed for them."""
    tid = uuid.uuid4()
    async with engine.begin() as conn:
        stored = await event_store.append(
            conn,
            f"thread-{tid}",
            0,
            [ThreadRenamed(thread_id=tid, title=t) for t in ("x", "y")],
            Envelope(),
        )
    relay = OutboxRelay(engine, js, delete_delay=0.05)
    relay.relay_committed(stored)
    await asyncio.gather(*relay._in_flight)
    got = await read_subject(js, f"events.thread.{tid}.>", expect=2)
    assert [g["data"]["title"] for g in got] == ["x", "y"]  # type: ignore[index]
    # their outbox rows go a moment later, in one batch
    for _ in range(100):
        if await outbox_has(engine, [e.position for e in stored]) == 0:
            break
        await asyncio.sleep(0.05)
    assert await outbox_has(engine, [e.position for e in stored]) == 0


async def test_the_loop_drops_what_the_fast_path_published_before_reading(
    engine: AsyncEngine, js: JetStreamContext
) -> None:
    """Outbox rows of events the fast path published wait for a batched delete; a loop pass
    in between deletes them first instead of publishing them again."""
    tid = uuid.uuid4()
    async with engine.begin() as conn:
        stored = await event_store.append(
            conn, f"thread-{tid}", 0, [ThreadRenamed(thread_id=tid, title="once")], Envelope()
        )
    relay = OutboxRelay(engine, js, delete_delay=3600)
    relay.relay_committed(stored)
    await asyncio.gather(*relay._in_flight)
    assert await outbox_has(engine, [stored[0].position]) == 1  # its delete is batched
    await relay.publish_pending()
    assert await outbox_has(engine, [stored[0].position]) == 0
    got = await read_subject(js, f"events.thread.{tid}.>", expect=1)
    assert [g["data"]["title"] for g in got] == ["once"]  # type: ignore[index]
    if relay._deleting is not None:
        relay._deleting.cancel()


async def test_a_failed_fast_publish_is_left_to_the_loop(
    engine: AsyncEngine, infra: Infra, js: JetStreamContext
) -> None:
    """NATS gone at commit time: the events stay in the outbox, the loop is woken, and a
    later pass publishes them."""
    tid = uuid.uuid4()
    closed = await nats.connect(infra.nats_url)
    await closed.close()
    relay = OutboxRelay(engine, closed.jetstream(), publish_timeout=1.0)
    # Holding the relay lock keeps any other relay's loop (the running stack's) off the row.
    async with engine.begin() as holder:
        await holder.execute(select(func.pg_advisory_xact_lock(RELAY_LOCK_KEY)))
        async with engine.begin() as conn:
            stored = await event_store.append(
                conn, f"thread-{tid}", 0, [ThreadRenamed(thread_id=tid, title="later")], Envelope()
            )
        relay.relay_committed(stored)
        await asyncio.gather(*relay._in_flight)
        assert await outbox_has(engine, [stored[0].position]) == 1
        assert relay._wakeup.is_set()
    relay.js = js
    while await relay.publish_pending():
        pass
    got = await read_subject(js, f"events.thread.{tid}.>", expect=1)
    assert [g["data"]["title"] for g in got] == ["later"]  # type: ignore[index]
    assert await outbox_has(engine, [stored[0].position]) == 0


async def test_the_outbox_delete_skips_only_its_own_flush_wait(engine: AsyncEngine) -> None:
    """The relay's delete turns `synchronous_commit` off for its own transaction (a lost delete
    only republishes); the connection keeps its own setting afterwards."""
    from sqlalchemy import text

    from threads.store.relay import _DELETE

    show = text("SHOW synchronous_commit")
    async with engine.connect() as conn:
        await conn.execute(text("SET synchronous_commit = on"))  # the tests' server runs off
        await conn.commit()
        async with conn.begin():
            await conn.execute(_DELETE, {"positions": [-1]})
            assert await conn.scalar(show) == "off"
        assert await conn.scalar(show) == "on"
        await conn.execute(text("RESET synchronous_commit"))
        await conn.commit()
    autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
    async with autocommit.connect() as conn:
        await conn.execute(text("SET synchronous_commit = on"))
        await conn.execute(_DELETE, {"positions": [-1]})
        assert await conn.scalar(show) == "on"
        await conn.execute(text("RESET synchronous_commit"))
