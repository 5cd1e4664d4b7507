"""Per-user limits across two gateways on one NATS (what `make up GATEWAYS=2` runs): a burst of
chats spread over both is cut at one limit, not two; a user's open streams are capped across
both; with the shared KV bucket gone, each gateway still answers, limited on its own."""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest

from tests.conftest import User, register
from tests.support.servers import Infra, free_port
from tests.support.sse_client import events
from tests.support.stack import ServiceProcess, Stack, start_stack, wait_ready

CHAT_BURST = 6
STREAMS = 2
LIMITS = {
    "GATEWAY_RATE_LIMIT_CHATS_PER_MINUTE": "1",  # one credit a minute: no refill mid-test
    "GATEWAY_RATE_LIMIT_CHATS_BURST": str(CHAT_BURST),
    "GATEWAY_MAX_STREAMS_PER_USER": str(STREAMS),
}


def two_gateways(
    infra: Infra, database_url: str, artifacts_dir: Path, env: dict[str, str]
) -> Iterator[tuple[Stack, str]]:
    log_dir = Path(tempfile.mkdtemp(prefix="shared-limits-", dir=artifacts_dir))
    stack = start_stack(infra, database_url, log_dir, extra_env=env)
    first = stack.services["gateway"]
    port = free_port()
    second = ServiceProcess(
        "gateway-2", first.argv, {**first.env, "GATEWAY_PORT": str(port)}, log_dir / "gw2.log"
    )
    second.start()
    stack.services["gateway-2"] = second
    try:
        wait_ready(f"http://127.0.0.1:{port}", [second])
        yield stack, f"http://127.0.0.1:{port}"
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def shared(infra: Infra, database_url: str, artifacts_dir: Path) -> Iterator[tuple[Stack, str]]:
    yield from two_gateways(infra, database_url, artifacts_dir, LIMITS)


@pytest.fixture(scope="module")
def broken(infra: Infra, database_url: str, artifacts_dir: Path) -> Iterator[tuple[Stack, str]]:
    # A bucket of its own, and no second look at it during the test once it has failed.
    env = {
        **LIMITS,
        "GATEWAY_LIMITS_BUCKET": "LIMITS_BROKEN",
        "GATEWAY_LIMITS_RETRY_SECONDS": "600",
    }
    yield from two_gateways(infra, database_url, artifacts_dir, env)


@contextlib.asynccontextmanager
async def clients(stack: Stack, second_url: str) -> AsyncIterator[list[httpx.AsyncClient]]:
    async with (
        httpx.AsyncClient(base_url=stack.base_url, timeout=30) as a,
        httpx.AsyncClient(base_url=second_url, timeout=30) as b,
    ):
        yield [a, b]


def on(client: httpx.AsyncClient, user: User) -> User:
    """The same user (the same token) on another gateway."""
    other = User.__new__(User)
    other.__dict__.update(user.__dict__, client=client)
    return other


async def new_thread(user: User, model: str = "echo") -> str:
    r = await user.post("/api/threads", json={"model_provider": "echo", "model": model})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def burst(users: list[User], thread_id: str, chats: int) -> list[list[int]]:
    """`chats` chats, one after another, alternating between the gateways: each gateway's
    statuses."""
    statuses: list[list[int]] = [[] for _ in users]
    for i in range(chats):
        r = await users[i % len(users)].post(
            f"/api/threads/{thread_id}/chat", json={"content": f"q{i}"}
        )
        assert r.status_code in (200, 429), r.text
        statuses[i % len(users)].append(r.status_code)
    return statuses


async def test_a_burst_over_both_gateways_is_cut_at_one_limit(
    shared: tuple[Stack, str],
) -> None:
    async with clients(*shared) as (a, b):
        user = await register(a)
        thread_id = await new_thread(user)
        statuses = await burst([user, on(b, user)], thread_id, 3 * CHAT_BURST)
        allowed = sum(s.count(200) for s in statuses)
        assert allowed == CHAT_BURST, statuses  # per-gateway buckets would allow twice as many
        assert all(200 in s for s in statuses), statuses  # both gateways spent the one bucket
        stored = (await user.get(f"/api/threads/{thread_id}/messages")).json()["messages"]
        assert sum(m["role"] == "user" for m in stored) == CHAT_BURST
        # Another user has a bucket of their own, on either gateway.
        other = await register(b)
        assert (await burst([other], await new_thread(other), 1)) == [[200]]


async def test_open_streams_are_capped_across_both_gateways(shared: tuple[Stack, str]) -> None:
    async with clients(*shared) as (a, b):
        user = await register(a)
        users = [user, on(b, user)]
        thread_id = await new_thread(user, model="echo-slow")
        long_question = " ".join(f"word{i}" for i in range(400))  # ~20 s of echo-slow
        async with contextlib.AsyncExitStack() as open_streams:
            started: list[str] = []
            readers: list[AsyncIterator[Any]] = []
            for gateway, client in enumerate((a, b)):
                response = await open_streams.enter_async_context(
                    client.stream(
                        "POST",
                        f"/api/threads/{thread_id}/chat",
                        json={"content": long_question},
                        headers=user.headers,
                    )
                )
                assert response.status_code == 200, gateway
                readers.append(events(response))  # kept: dropping it closes the stream
                first = await anext(readers[-1])
                started.append(first.data["message_id"])
            # One stream open on each gateway: the cap is reached on both.
            for u in users:
                r = await u.get(f"/api/threads/{thread_id}/messages/{started[0]}/stream")
                assert r.status_code == 429, r.text
        # Closed on both: the slots come back on every gateway.
        for _ in range(50):
            r = await users[1].get(f"/api/threads/{thread_id}/messages/{started[0]}/stream")
            if r.status_code != 429:
                break
            await asyncio.sleep(0.2)
        assert r.status_code == 200, r.text
        for message_id in started:
            await user.post(f"/api/threads/{thread_id}/messages/{message_id}/cancel")


async def test_without_the_shared_bucket_each_gateway_limits_on_its_own(
    infra: Infra, broken: tuple[Stack, str]
) -> None:
    async with clients(*broken) as (a, b):
        user = await register(a)
        users = [user, on(b, user)]
        thread_id = await new_thread(user)
        for u in users:  # a write on each gateway: both have declared and used the bucket
            assert (await u.post("/api/projects", json={"name": "p"})).status_code == 201
        nc = await nats.connect(infra.nats_url)
        try:
            await nc.jetstream().delete_key_value("LIMITS_BROKEN")
        finally:
            await nc.close()
        statuses = await burst(users, thread_id, 3 * CHAT_BURST)
        # Still answering (no 5xx), each gateway with its own bucket.
        assert [s.count(200) for s in statuses] == [CHAT_BURST, CHAT_BURST], statuses
