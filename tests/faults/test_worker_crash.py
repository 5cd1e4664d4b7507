"""Chat workers SIGKILLed mid-answer, again and again, while users keep asking: every requested
answer ends stored exactly once, complete, with no word lost or repeated."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

import httpx
import pytest

from tests.conftest import User, register
from tests.faults.conftest import FaultStack, wait_until
from tests.support.sse_client import events

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

WORKERS = 2
STACK_ENV = {
    # A dead worker's answer moves on within ~1.5 s; heartbeats keep live ones.
    "WORKER_BACKOFF": json.dumps([1.5, 2, 2, 2]),
    "WORKER_HEARTBEAT_INTERVAL": "0.3",
    "WORKER_MAX_DELIVER": "50",
}
KILL_FOR = 45.0  # seconds of kills; one every KILL_EVERY, alternating workers
KILL_EVERY = 2.0
USERS = 4


async def ask(user: User, words: list[str]) -> tuple[str, str]:
    """Post a chat on a new echo-slow thread; leave once it has started (the answer goes on)."""
    r = await user.post("/api/threads", json={"model_provider": "echo", "model": "echo-slow"})
    assert r.status_code == 201, r.text
    thread_id = r.json()["id"]
    async with user.client.stream(
        "POST",
        f"/api/threads/{thread_id}/chat",
        json={"content": " ".join(words)},
        headers=user.headers,
    ) as response:
        assert response.status_code == 200
        reader = events(response)
        assert (await anext(reader)).event == "message_start"
        await reader.aclose()
    return thread_id, " ".join(words)


async def test_answers_survive_workers_killed_mid_answer(fault_stack: FaultStack) -> None:
    workers = [s for n, s in fault_stack.stack.services.items() if n.startswith("chat-worker")]
    assert len(workers) == WORKERS
    async with httpx.AsyncClient(base_url=fault_stack.stack.base_url, timeout=30) as client:
        users = [await register(client) for _ in range(USERS)]
        asked: list[tuple[User, str, str]] = []
        stop = asyncio.Event()

        async def keep_asking(user: User) -> None:
            while not stop.is_set():
                # ~1.5 s of echo-slow; the index makes every word of a question unique
                words = [f"w{i:02d}{uuid.uuid4().hex[:6]}" for i in range(30)]
                thread_id, question = await ask(user, words)
                asked.append((user, thread_id, question))
                await asyncio.sleep(0.5)

        load = [asyncio.create_task(keep_asking(u)) for u in users]
        kills = 0
        deadline = time.monotonic() + KILL_FOR
        while time.monotonic() < deadline:
            await asyncio.sleep(KILL_EVERY)
            victim = workers[kills % WORKERS]
            await asyncio.to_thread(victim.kill)
            victim.start()
            kills += 1
        stop.set()
        await asyncio.gather(*load)
        assert kills >= 20

        async def stored(user: User, thread_id: str) -> list[dict[str, Any]]:
            r = await user.get(f"/api/threads/{thread_id}/messages")
            return list(r.json()["messages"])

        async def all_finished() -> bool:
            for user, thread_id, _ in asked:
                if any(m["status"] == "streaming" for m in await stored(user, thread_id)):
                    return False
            return True

        assert await wait_until(all_finished, 90, every=1.0), "answers left streaming"
        for user, thread_id, question in asked:
            messages = await stored(user, thread_id)
            assert [m["role"] for m in messages] == ["user", "assistant"], messages
            answer = messages[1]
            assert answer["status"] == "complete", answer
            assert answer["content"] == f"Echo: {question}"  # nothing lost, nothing repeated
        print(f"{kills} kills, {len(asked)} answers, all stored once")
