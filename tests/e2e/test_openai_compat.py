"""The OpenAI-compatible endpoint, driven by the official `openai` SDK as the client: streamed
and whole answers from `echo`, a thread continued, every exchange stored like any chat."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import openai
import pytest
import pytest_asyncio
from openai import AsyncOpenAI

from tests.conftest import User
from tests.support.stack import Stack

THREAD = "X-Switchboard-Thread"


@pytest_asyncio.fixture
async def sdk(stack: Stack, user: User) -> AsyncIterator[AsyncOpenAI]:
    async with AsyncOpenAI(
        base_url=f"{stack.base_url}/v1", api_key=user.token, max_retries=0, timeout=30
    ) as client:
        yield client


async def stored(user: User, thread_id: str) -> dict[str, Any]:
    r = await user.get(f"/api/threads/{thread_id}")
    assert r.status_code == 200, r.text
    return dict(r.json())


async def test_whole_answer_and_the_exchange_is_stored(sdk: AsyncOpenAI, user: User) -> None:
    raw = await sdk.chat.completions.with_raw_response.create(
        model="echo/echo",
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "first question"},
            {"role": "assistant", "content": "first answer"},
            {"role": "user", "content": "hello compatible world"},
        ],
        max_tokens=50,
    )
    thread_id = raw.headers[THREAD]
    completion = raw.parse()
    assert completion.object == "chat.completion"
    assert completion.model == "echo/echo"
    choice = completion.choices[0]
    assert choice.message.role == "assistant"
    assert choice.message.content == "Echo: hello compatible world"
    assert choice.finish_reason == "stop"
    assert completion.usage is not None and completion.usage.completion_tokens > 0

    thread = await stored(user, thread_id)
    assert thread["provider"] == "echo" and thread["model"] == "echo"
    assert [(m["role"], m["content"], m["status"]) for m in thread["messages"]] == [
        ("user", "first question", "complete"),
        ("assistant", "first answer", "complete"),
        ("user", "hello compatible world", "complete"),
        ("assistant", "Echo: hello compatible world", "complete"),
    ]
    assert completion.id == f"chatcmpl-{thread['messages'][-1]['id'].replace('-', '')}"


async def test_streamed_answer_with_usage(sdk: AsyncOpenAI, user: User) -> None:
    raw = await sdk.chat.completions.with_raw_response.create(
        model="echo/echo",
        messages=[{"role": "user", "content": "one two three four five"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    thread_id = raw.headers[THREAD]
    chunks = [chunk async for chunk in raw.parse()]
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    deltas = [c.choices[0].delta.content for c in chunks[1:] if c.choices]
    text = "".join(d for d in deltas if d)
    assert text == "Echo: one two three four five"
    assert len([d for d in deltas if d]) > 1  # token by token, not one blob
    finals = [c for c in chunks if c.choices and c.choices[0].finish_reason]
    assert len(finals) == 1 and finals[0].choices[0].finish_reason == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens > 0

    messages = (await stored(user, thread_id))["messages"]
    assert [(m["role"], m["content"]) for m in messages] == [
        ("user", "one two three four five"),
        ("assistant", text),
    ]


async def test_the_thread_header_continues_a_thread(sdk: AsyncOpenAI, user: User) -> None:
    first = await sdk.chat.completions.with_raw_response.create(
        model="echo/echo", messages=[{"role": "user", "content": "opening line"}]
    )
    thread_id = first.headers[THREAD]
    second = await sdk.chat.completions.with_raw_response.create(
        model="echo/echo",
        messages=[{"role": "user", "content": "follow up"}],
        extra_headers={THREAD: thread_id},
        stream=True,
    )
    assert second.headers[THREAD] == thread_id
    text = "".join([c.choices[0].delta.content or "" async for c in second.parse() if c.choices])
    assert text == "Echo: follow up"
    messages = (await stored(user, thread_id))["messages"]
    assert [m["content"] for m in messages] == [
        "opening line",
        "Echo: opening line",
        "follow up",
        "Echo: follow up",
    ]


async def test_another_users_thread_is_not_found(sdk: AsyncOpenAI, other_user: User) -> None:
    r = await other_user.post("/api/threads", json={"model_provider": "echo", "model": "echo"})
    with pytest.raises(openai.NotFoundError) as err:
        await sdk.chat.completions.create(
            model="echo/echo",
            messages=[{"role": "user", "content": "let me in"}],
            extra_headers={THREAD: r.json()["id"]},
        )
    assert err.value.body["message"] == "Thread not found"  # type: ignore[index]
    messages = (await other_user.get(f"/api/threads/{r.json()['id']}/messages")).json()
    assert messages["messages"] == []


async def test_models_list(sdk: AsyncOpenAI) -> None:
    ids = [m.id async for m in sdk.models.list()]
    assert {"echo/echo", "echo/echo-slow"} <= set(ids)


async def test_bad_requests_get_openai_errors(sdk: AsyncOpenAI, stack: Stack) -> None:
    with pytest.raises(openai.NotFoundError) as err:
        await sdk.chat.completions.create(
            model="nosuch/model", messages=[{"role": "user", "content": "hi"}]
        )
    assert err.value.code is None or isinstance(err.value.code, str)
    assert "nosuch/model" in err.value.message
    with pytest.raises(openai.BadRequestError):
        await sdk.chat.completions.create(
            model="echo/echo", messages=[{"role": "assistant", "content": "no user turn"}]
        )
    with pytest.raises(openai.BadRequestError):
        await sdk.chat.completions.create(model="echo/echo", messages=[])
    async with AsyncOpenAI(
        base_url=f"{stack.base_url}/v1", api_key="not-a-token", max_retries=0
    ) as anonymous:
        with pytest.raises(openai.AuthenticationError) as denied:
            await anonymous.models.list()
    assert denied.value.status_code == 401
    assert isinstance(denied.value.body, dict) and "message" in denied.value.body


async def test_a_provider_without_a_key_is_an_openai_error(sdk: AsyncOpenAI, user: User) -> None:
    with pytest.raises(openai.BadRequestError) as err:
        await sdk.chat.completions.with_raw_response.create(
            model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
        )
    assert err.value.code == "provider_not_configured"
    thread_id = err.value.response.headers[THREAD]
    messages = (await stored(user, thread_id))["messages"]
    assert [(m["role"], m["status"]) for m in messages] == [
        ("user", "complete"),
        ("assistant", "failed"),
    ]

    stream = await sdk.chat.completions.create(
        model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    with pytest.raises(openai.APIError):
        async for _ in stream:
            pass
