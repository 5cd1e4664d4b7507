"""Chat through the HTTP API against the fake providers, for the tests of what a provider
receives: a thread on a model name of its own, one streamed exchange, the stored messages, and
the requests the fake servers recorded for that model."""

from __future__ import annotations

import json
import uuid
from typing import Any

from tests.conftest import User
from tests.support.chat_stack import ChatStack
from tests.support.fake_providers import Recorded
from tests.support.sse_client import Event, read_all


def unique_model(prefix: str = "gpt") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def new_thread(user: User, provider: str, model: str, **fields: Any) -> dict[str, Any]:
    r = await user.post("/api/threads", json={"model_provider": provider, "model": model, **fields})
    assert r.status_code == 201, r.text
    return dict(r.json())


async def stream(user: User, url: str, body: dict[str, Any] | None = None) -> list[Event]:
    """POST `url` (a chat, regenerate or edit) and read its answer's stream to the end."""
    async with user.client.stream("POST", url, json=body, headers=user.headers) as response:
        assert response.status_code == 200, await response.aread()
        return await read_all(response)


async def chat(user: User, thread_id: str, content: str, **fields: Any) -> list[Event]:
    return await stream(user, f"/api/threads/{thread_id}/chat", {"content": content, **fields})


async def messages(user: User, thread_id: str) -> list[dict[str, Any]]:
    r = await user.get(f"/api/threads/{thread_id}/messages")
    assert r.status_code == 200, r.text
    return list(r.json()["messages"])


def answer_request(stack: ChatStack, provider: str, model: str) -> Recorded:
    """The first request for `model`: its thread's first answer (a title request follows it)."""
    requests = stack.fake.requests_for(provider, model)
    assert requests, f"{provider} got no request for {model}"
    return requests[0]


def context_source(stack: ChatStack, started: Event) -> str:
    """Where the worker took the answer's chat context from, as its `answering` line says:
    `pushed` with the post, or `asked` for."""
    message_id = started.data["message_id"]
    for line in stack.logs().splitlines():
        if '"answering"' in line and message_id in line:
            return str(json.loads(line)["context"])
    raise AssertionError(f"no answering line for {message_id}")
