"""Outages under steady writes, each on this module's own Postgres and nats-server:

- nats-server stopped for 5 s: 503 with Retry-After while it is gone, never a 500, never a wait
  past the gateway's timeout; every acknowledged write is there afterwards; the services
  reconnect by themselves; the relay publishes what accumulated;
- Postgres stopped and restarted: 503 likewise, nothing half-applied, the threads service
  reconnects by itself;
- the threads service SIGKILLed with requests in flight: a retry with the same Idempotency-Key
  gets the original result, and nothing is applied twice.

Every write carries an Idempotency-Key; after the fault each refused key is retried, and then
each key must stand for exactly one thread: the proof that nothing was applied twice or half.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Callable
from uuid import UUID

import asyncpg
import httpx
import pytest

from tests.conftest import User, register
from tests.faults.conftest import REQUEST_TIMEOUT, FaultStack, Outcome, create_thread, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

WRITERS = 4
HANG_MARGIN = 3.0  # seconds past the gateway's timeout that still count as "answered"


async def steady_writes(user: User, stop: asyncio.Event, outcomes: list[Outcome]) -> None:
    async def writer() -> None:
        while not stop.is_set():
            outcomes.append(await create_thread(user.client, user.headers))
            await asyncio.sleep(0.05)

    await asyncio.gather(*(writer() for _ in range(WRITERS)))


async def during(user: User, fault: Callable[[], object]) -> list[Outcome]:
    """Steady writes before, during and after `fault()` (which blocks until it is over),
    until writes succeed again."""
    stop, outcomes = asyncio.Event(), []
    writing = asyncio.create_task(steady_writes(user, stop, outcomes))
    await asyncio.sleep(2)
    await asyncio.to_thread(fault)
    recovered_at = len(outcomes)

    async def writes_again() -> bool:
        return any(o.status == 201 for o in outcomes[recovered_at:])

    recovered = await wait_until(writes_again, 60)
    await asyncio.sleep(1)
    stop.set()
    await writing
    assert recovered, "writes never succeeded again after the fault"
    return outcomes


def assert_clean_failures(outcomes: list[Outcome]) -> None:
    statuses = {o.status for o in outcomes}
    assert statuses <= {201, 503}, sorted(statuses)
    refused = [o for o in outcomes if o.status == 503]
    assert refused, "the fault was never seen: no 503 at all"
    assert all(o.retry_after and int(o.retry_after) >= 1 for o in refused)
    slowest = max(o.seconds for o in outcomes)
    assert slowest < REQUEST_TIMEOUT + HANG_MARGIN, slowest


async def user_threads(fs: FaultStack, user: User) -> list[tuple[UUID, str]]:
    dsn = fs.database_url.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("select id, title from threads where user_id = $1", UUID(user.id))
    finally:
        await conn.close()
    return [(r["id"], r["title"]) for r in rows]


async def assert_each_key_one_thread(fs: FaultStack, user: User, outcomes: list[Outcome]) -> None:
    """Acknowledged writes are there; refused keys retried now succeed; and the user's threads
    are exactly one per key, each with its key's title."""
    acked = {o.key: o.body for o in outcomes if o.status == 201}
    for key, body in acked.items():
        r = await user.get(f"/api/threads/{body['id']}")
        assert r.status_code == 200 and r.json()["title"] == f"t-{key}"
    for o in outcomes:
        if o.status != 201:
            again = await create_thread(user.client, user.headers, o.key)
            assert again.status == 201, again
            acked[o.key] = again.body
    stored = await user_threads(fs, user)
    assert sorted(title for _, title in stored) == sorted(f"t-{k}" for k in acked)
    assert {str(i) for i, _ in stored} == {b["id"] for b in acked.values()}


async def test_nats_down_for_5_seconds(fault_stack: FaultStack) -> None:
    servers = fault_stack.servers
    async with httpx.AsyncClient(base_url=fault_stack.stack.base_url, timeout=30) as client:
        user = await register(client)

        def nats_outage() -> None:
            servers.stop_nats()
            time.sleep(5)
            servers.start_nats()

        outcomes = await during(user, nats_outage)
        assert_clean_failures(outcomes)
        await assert_each_key_one_thread(fault_stack, user, outcomes)

        async def relayed() -> bool:
            return await fault_stack.outbox_rows() == 0

        assert await wait_until(relayed, 30), "the relay did not publish what accumulated"
        # Every service is still its first process: they reconnected by themselves.
        assert all(svc.alive() for svc in fault_stack.stack.services.values())


async def test_postgres_down_and_back(fault_stack: FaultStack) -> None:
    servers = fault_stack.servers
    async with httpx.AsyncClient(base_url=fault_stack.stack.base_url, timeout=30) as client:
        user = await register(client)

        def postgres_outage() -> None:
            servers.stop_pg()
            time.sleep(3)
            servers.start_pg()

        outcomes = await during(user, postgres_outage)
        assert_clean_failures(outcomes)
        await assert_each_key_one_thread(fault_stack, user, outcomes)
        assert all(svc.alive() for svc in fault_stack.stack.services.values())


async def test_threads_service_killed_between_commit_and_reply(fault_stack: FaultStack) -> None:
    threads = fault_stack.stack.services["threads"]
    async with httpx.AsyncClient(base_url=fault_stack.stack.base_url, timeout=30) as client:
        user = await register(client)
        keys = [f"crash-{i}" for i in range(150)]
        sem = asyncio.Semaphore(20)

        async def send(key: str) -> Outcome:
            async with sem:
                return await create_thread(client, user.headers, key)

        firsts = [asyncio.create_task(send(k)) for k in keys]
        await asyncio.sleep(0.3)  # some done, some in flight, some not sent yet
        threads.kill()
        first = await asyncio.gather(*firsts)
        threads.start()

        async def up() -> bool:
            with contextlib.suppress(httpx.HTTPError):
                return (await client.get("/readyz")).status_code == 200
            return False

        assert await wait_until(up, 60)
        assert {o.status for o in first} <= {201, 503}
        assert any(o.status == 503 for o in first), "the kill hit no request"
        retried = [await create_thread(client, user.headers, k) for k in keys]
        assert all(o.status == 201 for o in retried), [o for o in retried if o.status != 201]
        for before, after in zip(first, retried, strict=True):
            if before.status == 201:  # the retry gets the original result
                assert after.body == before.body
        stored = await user_threads(fault_stack, user)
        assert sorted(t for _, t in stored) == sorted(f"t-{k}" for k in keys)


async def test_an_event_with_a_huge_integer_does_not_stall_the_relay(
    fault_stack: FaultStack,
) -> None:
    """Found by fuzzing: an event orjson cannot encode (an integer past 64 bits, which JSONB
    stores fine) blocked the relay, so nothing after it was ever published. Such an event is
    written straight into the store here, as no API input can make one any more."""
    dsn = fault_stack.database_url.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            position = await conn.fetchval(
                "insert into events (stream_id, stream_version, event_id, event_type,"
                " schema_version, data, metadata) values ($1, 1, $2, 'PoisonForTest', 1,"
                " '{\"n\": 100000000000000000000}', '{}') returning global_position",
                f"poison-{uuid.uuid4().hex}",
                uuid.uuid4(),
            )
            await conn.execute("insert into outbox (global_position) values ($1)", position)
    finally:
        await conn.close()
    async with httpx.AsyncClient(base_url=fault_stack.stack.base_url, timeout=30) as client:
        user = await register(client)
        assert (await create_thread(client, user.headers)).status == 201

        async def relayed() -> bool:
            return await fault_stack.outbox_rows() == 0

        assert await wait_until(relayed, 20), "the relay is stuck"
