"""One X-Request-ID followed through every hop of a chat: the gateway's response and log, the
threads service's log, the stored events, the event message on JetStream, the chat worker's
log (its answer and the title it generates)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import nats
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts.subjects import EVENTS_STREAM
from tests.conftest import User
from tests.support.servers import Infra
from tests.support.sse_client import read_all
from tests.support.stack import Stack


def json_lines(stack: Stack, prefix: str) -> list[dict[str, Any]]:
    lines = []
    for name, svc in stack.services.items():
        if not name.startswith(prefix):
            continue
        for line in svc.log_path.read_text(errors="replace").splitlines():
            try:
                lines.append(json.loads(line))
            except ValueError:
                continue
    return lines


async def wait_for(check: Callable[[], Any], what: str, timeout: float = 15.0) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        found = check()
        if found:
            return found
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not found in time: {what}")
        await asyncio.sleep(0.1)


async def test_x_request_id_is_answered_on_every_response(client: httpx.AsyncClient) -> None:
    mine = str(uuid.uuid4())
    r = await client.get("/healthz", headers={"X-Request-ID": mine})
    assert r.headers["x-request-id"] == mine
    for response in (
        await client.get("/healthz"),
        await client.get("/healthz", headers={"X-Request-ID": "not-a-uuid"}),
        await client.get("/api/threads"),  # 401
        await client.get("/no/such/route"),  # 404
    ):
        assert uuid.UUID(response.headers["x-request-id"])


async def test_one_request_id_across_every_hop(
    user: User, stack: Stack, engine: AsyncEngine, infra: Infra
) -> None:
    cid = str(uuid.uuid4())
    r = await user.post("/api/threads", json={"model_provider": "echo", "model": "echo"})
    assert r.status_code == 201, r.text
    thread_id = r.json()["id"]
    async with user.client.stream(
        "POST",
        f"/api/threads/{thread_id}/chat",
        json={"content": "follow this request everywhere"},
        headers={**user.headers, "X-Request-ID": cid},
    ) as response:
        assert response.status_code == 200
        assert response.headers["x-request-id"] == cid
        evs = await read_all(response)
    assert evs[-1].event == "message_end"

    # The gateway: one line for the write.
    gateway = await wait_for(
        lambda: [
            line
            for line in json_lines(stack, "gateway")
            if line.get("correlation_id") == cid and line.get("msg") == "request"
        ],
        "the gateway's request line",
    )
    assert gateway[0]["route"] == "/api/threads/{thread_id}/chat"
    assert gateway[0]["method"] == "POST" and gateway[0]["status"] == 200

    # The threads service: the chat command, the worker's outcome, the generated title.
    def threads_commands() -> set[str]:
        return {
            line.get("type", "")
            for line in json_lines(stack, "threads")
            if line.get("correlation_id") == cid and line.get("msg") == "command"
        }

    wanted = {"PostChat", "CompleteAssistantMessage", "SetGeneratedTitle"}
    await wait_for(lambda: wanted <= threads_commands(), f"threads commands {wanted}")

    # The chat worker: its answer's lines.
    worker = await wait_for(
        lambda: {
            line.get("msg")
            for line in json_lines(stack, "chat-worker")
            if line.get("correlation_id") == cid
        },
        "the worker's lines",
    )
    assert {"answering", "answer recorded"} <= worker

    # The stored events: every event of the exchange and of the title.
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "select event_type, metadata from events where stream_id = :s "
                    "and event_type <> 'ThreadCreated' order by stream_version"
                ),
                {"s": f"thread-{thread_id}"},
            )
        ).all()
    types = [row.event_type for row in rows]
    assert {"UserMessagePosted", "AssistantMessageRequested", "AssistantMessageCompleted"} <= set(
        types
    )
    assert all(row.metadata["correlation_id"] == cid for row in rows), types

    # The event message on JetStream: the relay's header.
    nc = await nats.connect(infra.nats_url)
    try:
        msg = await nc.jetstream().get_last_msg(
            EVENTS_STREAM, f"events.thread.{thread_id}.AssistantMessageRequested"
        )
        headers = dict(msg.headers or {})
        assert headers["correlation_id"] == cid
        assert headers["Nats-Msg-Id"]
    finally:
        await nc.close()
