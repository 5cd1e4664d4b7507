"""Slow SSE clients that read nothing for 30 s: other users' streams keep their pace, the
gateway's memory does not keep growing, and the slow clients still get the whole answer."""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import User, register
from tests.faults.conftest import FaultStack
from tests.support.sse_client import read_all, text_of

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

SLOW_CLIENTS = 4
STALL = 30.0
BIG = " ".join(f"word{i}" for i in range(20_000))  # far more than the socket buffers hold


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


async def thread_of(user: User) -> str:
    r = await user.post("/api/threads", json={"model_provider": "echo", "model": "echo"})
    assert r.status_code == 201
    return str(r.json()["id"])


async def timed_chat(user: User, thread_id: str) -> float:
    start = time.monotonic()
    async with user.client.stream(
        "POST",
        f"/api/threads/{thread_id}/chat",
        json={"content": " ".join(f"w{i}" for i in range(200))},
        headers=user.headers,
    ) as response:
        evs = await read_all(response)
    assert evs[-1].event == "message_end"
    return time.monotonic() - start


async def test_a_stalled_reader_slows_no_one_else(fault_stack: FaultStack) -> None:
    gateway = fault_stack.stack.services["gateway"]
    base = fault_stack.stack.base_url
    async with (
        httpx.AsyncClient(base_url=base, timeout=60) as client,
        contextlib.AsyncExitStack() as stalled,
    ):
        normal = await register(client)
        normal_thread = await thread_of(normal)
        baseline = [await timed_chat(normal, normal_thread) for _ in range(5)]

        slow_responses = []
        for _ in range(SLOW_CLIENTS):
            slow_client = await stalled.enter_async_context(
                httpx.AsyncClient(base_url=base, timeout=120)
            )
            slow = await register(slow_client)
            thread_id = await thread_of(slow)
            response = await stalled.enter_async_context(
                slow_client.stream(
                    "POST",
                    f"/api/threads/{thread_id}/chat",
                    json={"content": BIG},
                    headers=slow.headers,
                )
            )
            assert response.status_code == 200
            slow_responses.append(response)  # and read nothing

        rss = [rss_mb(gateway.pid)]
        during: list[float] = []
        started = time.monotonic()
        while time.monotonic() - started < STALL:
            during.append(await timed_chat(normal, normal_thread))
            rss.append(rss_mb(gateway.pid))
            await asyncio.sleep(0.5)

        # Now they read: each gets its whole answer.
        for response in slow_responses:
            evs = await read_all(response)
            assert evs[-1].event == "message_end"
            assert text_of(evs).split()[-1] == "word19999"

    base_median, during_median = statistics.median(baseline), statistics.median(during)
    print(
        f"chat median {base_median * 1000:.0f} ms alone, {during_median * 1000:.0f} ms beside "
        f"{SLOW_CLIENTS} stalled readers; gateway RSS {rss[0]:.0f} -> {max(rss):.0f} MB"
    )
    assert during_median < 5 * base_median + 1.0
    # Bounded: after the first third of the stall, memory no longer climbs.
    third = len(rss) // 3
    assert max(rss[third:]) - rss[third] < 50, rss
