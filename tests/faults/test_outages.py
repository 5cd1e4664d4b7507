"""Outages under steady writes, each on this module's own Postgres and nats-server:

- nats-server stopped for 5 s: 503 with Retry-After while it is gone, never a 500, never a wait
  past the gateway's timeout; every acknowledged write is there afterwards; the services
  reconnect by themselves; the relay publishes what accumulated; answers streaming when it
  goes away end with exactly one terminal event, on their connection or on a resumed one
  (Last-Event-ID), and are stored final with the text the client was shown;
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
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import pytest

from tests.conftest import User, register
from tests.faults.conftest import REQUEST_TIMEOUT, FaultStack, Outcome, create_thread, wait_until
from tests.support.sse_client import TERMINAL, Event, events, text_of
from tests.support.stack import ServiceProcess

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

WRITERS = 4
HANG_MARGIN = 3.0  # seconds past the gateway's timeout that still count as "answered"
STREAMS = 4  # answers in flight when NATS goes away
STREAM_WORDS = 160  # ~8 s of echo-slow: mid-answer when NATS stops, and after it is back
STREAM_BOUND = 90.0  # seconds an answer may take, outage and redelivery included
SILENCE = 20.0  # seconds without a byte (keep-alives come every 15 s) before a client resumes


async def steady_writes(user: User, stop: asyncio.Event, outcomes: list[Outcome]) -> None:
    async def writer() -> None:
        while not stop.is_set():
            outcomes.append(await create_thread(user.client, user.headers))
            await asyncio.sleep(0.05)

    await asyncio.gather(*(writer() for _ in range(WRITERS)))


async def during(user: User, fault: Callable[[], object]) -> list[Outcome]:
    """Steady writes before, during and after `fault()` (which blocks until it is over),
    until writes succeed again."""
    stop, outcomes = asyncio.Event(), list[Outcome]()
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


@dataclass
class Followed:
    """One answer as a client followed it: the events of each connection, in order."""

    thread_id: str
    legs: list[list[Event]] = field(default_factory=list)
    message_id: str | None = None
    resumes: int = 0
    first_token_at: float = 0.0  # time.monotonic() of the first token, and of the terminal event
    ended_at: float = 0.0

    @property
    def all(self) -> list[Event]:
        return [ev for leg in self.legs for ev in leg]

    @property
    def last_id(self) -> int | None:
        ids = [ev.id for ev in self.all if ev.id is not None]
        return ids[-1] if ids else None

    @property
    def ended(self) -> bool:
        return any(ev.event in TERMINAL for ev in self.all)


async def _read_leg(response: httpx.Response, followed: Followed) -> None:
    """Events until the terminal one; a dropped or silent connection just ends the leg."""
    leg: list[Event] = []
    followed.legs.append(leg)
    with contextlib.suppress(httpx.HTTPError):
        async for ev in events(response):
            leg.append(ev)
            if ev.event == "message_start" and followed.message_id is None:
                followed.message_id = ev.data["message_id"]
            if ev.event == "token" and not followed.first_token_at:
                followed.first_token_at = time.monotonic()
            if ev.event in TERMINAL:
                followed.ended_at = time.monotonic()
                return


async def _read_leg_unless(
    response: httpx.Response, followed: Followed, drop: asyncio.Event | None
) -> None:
    """`_read_leg`, but the client hangs up when `drop` is set (its network went away)."""
    reading = asyncio.create_task(_read_leg(response, followed))
    if drop is None:
        await reading
        return
    dropping = asyncio.create_task(drop.wait())
    await asyncio.wait({reading, dropping}, return_when=asyncio.FIRST_COMPLETED)
    for task in (reading, dropping):
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def follow_answer(
    user: User, followed: Followed, content: str, drop: asyncio.Event | None = None
) -> None:
    """Post a chat and read its answer to the end like a careful client: when the connection
    breaks or goes silent before the terminal event (or the client drops it when `drop` is
    set), resume it with Last-Event-ID, retrying a 503 while NATS is away. Gives up only at
    STREAM_BOUND."""
    thread_id = followed.thread_id
    timeout = httpx.Timeout(30, read=SILENCE)
    deadline = time.monotonic() + STREAM_BOUND
    key = uuid.uuid4().hex
    while followed.message_id is None and time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            async with user.client.stream(
                "POST",
                f"/api/threads/{thread_id}/chat",
                json={"content": content},
                headers={**user.headers, "Idempotency-Key": key},
                timeout=timeout,
            ) as r:
                if r.status_code == 200:
                    await _read_leg_unless(r, followed, drop)
                    continue
                assert r.status_code == 503, r.status_code
        await asyncio.sleep(1)
    assert followed.message_id is not None, "the chat was never accepted"
    url = f"/api/threads/{thread_id}/messages/{followed.message_id}/stream"
    while not followed.ended and time.monotonic() < deadline:
        last = followed.last_id
        headers = {**user.headers, **({"Last-Event-ID": str(last)} if last is not None else {})}
        with contextlib.suppress(httpx.HTTPError):
            async with user.client.stream("GET", url, headers=headers, timeout=timeout) as r:
                if r.status_code == 200:
                    followed.resumes += 1
                    await _read_leg(r, followed)
                    continue
                assert r.status_code == 503, r.status_code
        await asyncio.sleep(1)


async def stored_answer(user: User, thread_id: str, message_id: str) -> dict[str, Any]:
    r = await user.get(f"/api/threads/{thread_id}/messages")
    assert r.status_code == 200, r.text
    return next(m for m in r.json()["messages"] if m["id"] == message_id)


async def assert_answer_settled(user: User, followed: Followed) -> None:
    """Exactly one terminal event, last; the stored answer is final and says the same."""
    evs = followed.all
    kinds = [ev.event for ev in evs]
    assert [k for k in kinds if k in TERMINAL] == [kinds[-1]], (followed.resumes, kinds[-5:])
    assert followed.message_id is not None
    message = await stored_answer(user, followed.thread_id, followed.message_id)
    expected = {"message_end": "complete", "error": "failed", "cancelled": "cancelled"}
    assert message["status"] == expected[kinds[-1]], (message["status"], kinds[-1])
    if message["status"] == "complete":
        assert message["content"] == text_of(evs)
        assert message["content"].startswith("Echo: ")


async def test_nats_down_for_5_seconds(fault_stack: FaultStack) -> None:
    servers = fault_stack.servers
    async with httpx.AsyncClient(base_url=fault_stack.stack.base_url, timeout=30) as client:
        user, chatter = await register(client), await register(client)
        threads = []
        for _ in range(STREAMS):
            r = await chatter.post(
                "/api/threads", json={"model_provider": "echo", "model": "echo-slow"}
            )
            assert r.status_code == 201, r.text
            threads.append(r.json()["id"])
        questions = [" ".join(uuid.uuid4().hex[:6] for _ in range(STREAM_WORDS)) for _ in threads]
        # Half the clients lose their connection when NATS goes away and must resume.
        drop, loop = asyncio.Event(), asyncio.get_running_loop()
        followed = [Followed(t) for t in threads]
        chats = [
            asyncio.create_task(follow_answer(chatter, f, q, drop if i % 2 else None))
            for i, (f, q) in enumerate(zip(followed, questions, strict=True))
        ]

        async def streaming() -> bool:
            return all(f.first_token_at for f in followed)

        assert await wait_until(streaming, 60), "the answers never started"
        stopped_at = 0.0

        def nats_outage() -> None:
            nonlocal stopped_at
            servers.stop_nats()
            stopped_at = time.monotonic()
            loop.call_soon_threadsafe(drop.set)
            time.sleep(5)
            servers.start_nats()

        outcomes = await during(user, nats_outage)
        assert_clean_failures(outcomes)
        await assert_each_key_one_thread(fault_stack, user, outcomes)

        await asyncio.gather(*chats)
        for i, f in enumerate(followed):
            assert f.first_token_at < stopped_at, "an answer started after NATS went away"
            await assert_answer_settled(chatter, f)
            assert f.ended_at > stopped_at, "an answer ended before NATS went away"
            if i % 2:
                assert f.resumes >= 1, "a dropped client did not resume"
        print(f"\nstreams resumed: {[f.resumes for f in followed]}")
        print(f"restarts: {[sum(ev.event == 'restart' for ev in f.all) for f in followed]}")
        print(f"stream ends: {[f.all[-1].event for f in followed]}")
        print(f"seconds to the end: {[round(f.ended_at - stopped_at, 1) for f in followed]}")

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


async def test_services_stop_cleanly_while_nats_is_away(fault_stack: FaultStack) -> None:
    """SIGTERM with NATS gone (the connection reconnecting, nothing to drain): the threads
    service and the worker still stop at once, with exit status 0. Runs last: it leaves them
    stopped."""
    ready = {"threads": "threads service ready", "chat-worker-1": "chat worker ready"}
    for name, line in ready.items():  # signal handlers are installed by then

        async def started(
            svc: ServiceProcess = fault_stack.stack.services[name], line: str = line
        ) -> bool:
            return line in svc.log_path.read_text(errors="replace")

        assert await wait_until(started, 30), f"{name} never got ready"
    fault_stack.servers.stop_nats()
    try:
        await asyncio.sleep(1.0)  # they notice, and start reconnecting
        for name in ready:
            svc = fault_stack.stack.services[name]
            assert svc.alive(), svc.log_tail()
            started = time.monotonic()
            svc.stop(timeout=10)
            assert svc.process is not None
            assert svc.process.returncode == 0, f"{name} exited {svc.process.returncode}:\n" + (
                svc.log_tail(20)
            )
            assert time.monotonic() - started < 5
    finally:
        fault_stack.servers.start_nats()
