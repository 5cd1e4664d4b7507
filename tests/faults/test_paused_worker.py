"""Chat workers paused (SIGSTOP) mid-answer for longer than the ack wait, then resumed: JetStream
has redelivered the request meanwhile, yet every stream, live or replayed, shows one attempt at
a time and ends with exactly the stored text, and the answer is stored once."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import uuid
from typing import Any

import httpx
import orjson
import pytest

from tests.conftest import User, register
from tests.faults.conftest import FaultStack
from tests.support.sse_client import Event, events, read_all, text_of
from tests.support.stack import ServiceProcess

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

WORKERS = 2
ACK_WAIT = 1.5
STACK_ENV = {
    # The smallest backoff is the effective ack wait: a paused worker loses its lease fast.
    "WORKER_BACKOFF": json.dumps([ACK_WAIT, 2, 2, 2]),
    "WORKER_HEARTBEAT_INTERVAL": "0.3",
    "WORKER_MAX_DELIVER": "50",
}
PAUSE = 3 * ACK_WAIT  # long past the ack wait: the request is redelivered meanwhile
WORDS = 60  # echo-slow: 50 ms a word, about 3 s of answer


def workers(fault_stack: FaultStack) -> list[ServiceProcess]:
    found = [s for n, s in fault_stack.stack.services.items() if n.startswith("chat-worker")]
    assert len(found) == WORKERS
    return found


def log_records(worker: ServiceProcess, message_id: str) -> list[dict[str, Any]]:
    records = []
    for line in worker.log_path.read_bytes().splitlines():
        if message_id.encode() not in line:
            continue
        try:
            records.append(orjson.loads(line))
        except orjson.JSONDecodeError:
            continue
    return records


async def answering_worker(fault_stack: FaultStack, message_id: str) -> ServiceProcess:
    for _ in range(200):
        for worker in workers(fault_stack):
            if any(r.get("msg") == "answering" for r in log_records(worker, message_id)):
                return worker
        await asyncio.sleep(0.05)
    raise AssertionError("no worker logged the answer")


def segments(evs: list[Event]) -> list[str]:
    """The text shown between restarts: one attempt each."""
    parts: list[list[str]] = [[]]
    for ev in evs:
        if ev.event == "restart":
            parts.append([])
        elif ev.event == "token":
            parts[-1].append(ev.data["text"])
    return ["".join(p) for p in parts]


def assert_one_attempt_at_a_time(evs: list[Event], stored: str) -> None:
    assert evs[-1].event == "message_end", evs[-3:]
    for shown in segments(evs):
        # Two attempts interleaved would repeat words: each one's text is a start of the answer.
        assert stored.startswith(shown), (shown, stored)
    assert text_of(evs) == stored


async def paused_answer(user: User, fault_stack: FaultStack, pause_all: bool) -> None:
    r = await user.post("/api/threads", json={"model_provider": "echo", "model": "echo-slow"})
    assert r.status_code == 201, r.text
    thread_id = r.json()["id"]
    question = " ".join(f"w{i:02d}{uuid.uuid4().hex[:6]}" for i in range(WORDS))
    live: list[Event] = []
    paused: list[ServiceProcess] = []
    async with user.client.stream(
        "POST", f"/api/threads/{thread_id}/chat", json={"content": question}, headers=user.headers
    ) as response:
        assert response.status_code == 200
        reader = events(response)
        start = await anext(reader)
        assert start.event == "message_start"
        message_id = start.data["message_id"]
        while not any(ev.event == "token" for ev in live):  # mid-answer
            live.append(await anext(reader))
        answering = await answering_worker(fault_stack, message_id)
        paused = workers(fault_stack) if pause_all else [answering]
        try:
            for worker in paused:
                os.kill(worker.pid, signal.SIGSTOP)
            await asyncio.sleep(PAUSE)
        finally:
            for worker in paused:
                os.kill(worker.pid, signal.SIGCONT)
        async for ev in reader:
            live.append(ev)
            if ev.event in ("message_end", "error", "cancelled"):
                break

    r = await user.get(f"/api/threads/{thread_id}/messages")
    messages = r.json()["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant"], messages  # stored once
    answer = messages[1]
    assert answer["status"] == "complete", answer
    assert answer["content"] == f"Echo: {question}"
    assert_one_attempt_at_a_time(live, answer["content"])

    # The request really came back while the worker was paused.
    deliveries = {
        int(rec["delivery"])
        for worker in workers(fault_stack)
        for rec in log_records(worker, message_id)
        if "delivery" in rec
    }
    assert max(deliveries) >= 2, deliveries

    stream = f"/api/threads/{thread_id}/messages/{message_id}/stream"
    async with user.client.stream("GET", stream, headers=user.headers) as replayed:
        from_start = await read_all(replayed)
    assert_one_attempt_at_a_time(from_start, answer["content"])
    numbered = [ev for ev in live if ev.id is not None]
    assert [(e.id, e.event, e.data) for e in from_start if e.id is not None] == [
        (e.id, e.event, e.data) for e in numbered
    ]
    middle = numbered[len(numbered) // 2].id
    async with user.client.stream(
        "GET", stream, headers={**user.headers, "Last-Event-ID": str(middle)}
    ) as resumed:
        after = await read_all(resumed)
    assert [(e.id, e.event, e.data) for e in after if e.id is not None] == [
        (e.id, e.event, e.data) for e in numbered if e.id is not None and e.id > middle
    ]


async def test_every_worker_paused_past_the_ack_wait(fault_stack: FaultStack) -> None:
    async with httpx.AsyncClient(base_url=fault_stack.stack.base_url, timeout=60) as client:
        await paused_answer(await register(client), fault_stack, pause_all=True)


async def test_one_of_two_workers_paused_past_the_ack_wait(fault_stack: FaultStack) -> None:
    async with httpx.AsyncClient(base_url=fault_stack.stack.base_url, timeout=60) as client:
        await paused_answer(await register(client), fault_stack, pause_all=False)
