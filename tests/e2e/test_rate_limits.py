"""Per-user limits, on a gateway of their own with low settings: writes and chats past their
token bucket answer 429 with `Retry-After` and store nothing; a user's concurrent streams are
capped; one user's limits never touch another's; reads are not limited."""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from tests.conftest import User, register, start_stack
from tests.support.servers import Infra
from tests.support.sse_client import events, read_all
from tests.support.stack import Stack

WRITE_BURST = 5
CHAT_BURST = 3
STREAMS = 2


@pytest.fixture(scope="module")
def limited_stack(infra: Infra, database_url: str, artifacts_dir: Path) -> Iterator[Stack]:
    log_dir = Path(tempfile.mkdtemp(prefix="limits-", dir=artifacts_dir))
    running = start_stack(
        infra,
        database_url,
        log_dir,
        extra_env={
            "GATEWAY_RATE_LIMIT_WRITES_PER_MINUTE": "60",
            "GATEWAY_RATE_LIMIT_WRITES_BURST": str(WRITE_BURST),
            "GATEWAY_RATE_LIMIT_CHATS_PER_MINUTE": "6",
            "GATEWAY_RATE_LIMIT_CHATS_BURST": str(CHAT_BURST),
            "GATEWAY_MAX_STREAMS_PER_USER": str(STREAMS),
        },
    )
    yield running
    running.stop()


@pytest_asyncio.fixture
async def limited(limited_stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=limited_stack.base_url, timeout=30) as c:
        yield c


def assert_too_many(r: httpx.Response) -> None:
    assert r.status_code == 429, r.text
    assert int(r.headers["Retry-After"]) >= 1
    assert isinstance(r.json()["detail"], str)


async def test_writes_past_the_burst_answer_429_and_store_nothing(
    limited: httpx.AsyncClient,
) -> None:
    user, other = await register(limited), await register(limited)
    for i in range(WRITE_BURST):
        r = await user.post("/api/projects", json={"name": f"p{i}"})
        assert r.status_code == 201, r.text
    refused = await user.post("/api/projects", json={"name": "one too many"})
    assert_too_many(refused)
    # Every write method is counted; reads are not.
    assert_too_many(await user.delete("/api/projects/00000000-0000-0000-0000-000000000000"))
    for _ in range(20):
        assert (await user.get("/api/projects")).status_code == 200
    names = [p["name"] for p in (await user.get("/api/projects")).json()["projects"]]
    assert sorted(names) == [f"p{i}" for i in range(WRITE_BURST)]
    # Another user has a bucket of their own.
    assert (await other.post("/api/projects", json={"name": "mine"})).status_code == 201

    await asyncio.sleep(int(refused.headers["Retry-After"]) + 0.2)
    assert (await user.post("/api/projects", json={"name": "later"})).status_code == 201


async def new_thread(user: User, model: str = "echo") -> str:
    r = await user.post("/api/threads", json={"model_provider": "echo", "model": model})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def messages(user: User, thread_id: str) -> list[dict[str, Any]]:
    return list((await user.get(f"/api/threads/{thread_id}/messages")).json()["messages"])


async def test_chats_past_the_burst_answer_429_and_store_nothing(
    limited: httpx.AsyncClient,
) -> None:
    user = await register(limited)
    thread_id = await new_thread(user)
    for i in range(CHAT_BURST):
        async with limited.stream(
            "POST",
            f"/api/threads/{thread_id}/chat",
            json={"content": f"q{i}"},
            headers=user.headers,
        ) as response:
            assert response.status_code == 200
            assert (await read_all(response))[-1].event == "message_end"
    refused = await user.post(f"/api/threads/{thread_id}/chat", json={"content": "too many"})
    assert_too_many(refused)
    stored = await messages(user, thread_id)
    assert [m["content"] for m in stored if m["role"] == "user"] == ["q0", "q1", "q2"]
    # Chats have their own bucket: writes still go through.
    assert (await user.post("/api/projects", json={"name": "still fine"})).status_code == 201


async def test_concurrent_streams_are_capped_per_user(limited: httpx.AsyncClient) -> None:
    user, other = await register(limited), await register(limited)
    thread_id = await new_thread(user, model="echo-slow")
    long_question = " ".join(f"word{i}" for i in range(400))  # ~20 s of echo-slow
    async with contextlib.AsyncExitStack() as open_streams:
        started: list[str] = []
        readers: list[AsyncIterator[Any]] = []
        for _ in range(STREAMS):
            response = await open_streams.enter_async_context(
                limited.stream(
                    "POST",
                    f"/api/threads/{thread_id}/chat",
                    json={"content": long_question},
                    headers=user.headers,
                )
            )
            assert response.status_code == 200
            # Keep the reader: dropping it would close the response, and so the stream.
            readers.append(events(response))
            first = await anext(readers[-1])
            assert first.event == "message_start"
            started.append(first.data["message_id"])

        refused = await user.post(f"/api/threads/{thread_id}/chat", json={"content": "third"})
        assert_too_many(refused)
        resume = await user.get(f"/api/threads/{thread_id}/messages/{started[0]}/stream")
        assert_too_many(resume)
        # Nothing was stored for the refused chat.
        stored = await messages(user, thread_id)
        assert [m["role"] for m in stored] == ["user", "assistant"] * STREAMS
        # Another user streams as usual.
        other_thread = await new_thread(other)
        async with limited.stream(
            "POST",
            f"/api/threads/{other_thread}/chat",
            json={"content": "hello"},
            headers=other.headers,
        ) as response:
            assert response.status_code == 200
            assert (await read_all(response))[-1].event == "message_end"

    # Closing the streams (a client going away) gives the slots back.
    for _ in range(50):
        r = await user.get(f"/api/threads/{thread_id}/messages/{started[0]}/stream")
        if r.status_code != 429:
            break
        await asyncio.sleep(0.2)
    assert r.status_code == 200, r.text
    await user.post(f"/api/threads/{thread_id}/messages/{started[0]}/cancel")
    await user.post(f"/api/threads/{thread_id}/messages/{started[1]}/cancel")
