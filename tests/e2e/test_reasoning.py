"""Reasoning streamed apart (issue 16, point 4): a model's thinking (the fake servers send each
wire format's real reasoning shape) streams as `event: reasoning` before the tokens, resumes
with `Last-Event-ID` like tokens, is stored as the message's `reasoning` beside its
`content`, kept by a cancelled answer, counted as `reasoning_tokens` where the provider counts
them, and never sent back to the provider on the next turn."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from openai import AsyncOpenAI

from tests.conftest import User, register
from tests.support.chat_stack import KEYS, ChatStack
from tests.support.fake_providers import THOUGHT, Behaviour
from tests.support.provider_chat import chat, messages, new_thread, unique_model
from tests.support.sse_client import Event, events, read_all, text_of

ANSWER = "Hello there, nice to meet you."


@pytest_asyncio.fixture
async def me(provider_stack: ChatStack) -> AsyncIterator[User]:
    async with httpx.AsyncClient(base_url=provider_stack.stack.base_url, timeout=30) as client:
        yield await register(client)


def reasoning_of(evs: list[Event]) -> str:
    return text_of(evs, "reasoning")


async def thinking_thread(
    me: User, stack: ChatStack, provider: str, wire: str, prefix: str, **behaviour: object
) -> tuple[dict[str, object], str]:
    """A thread on a model of its own whose next requests (answers, titles) start with THOUGHT."""
    if provider in ("deepseek", "openrouter"):
        config = {"api_key": KEYS["openai"], "base_url": stack.fake.openai_base_url}
        r = await me.put(f"/api/providers/{provider}/config", json=config)
        assert r.status_code == 200, r.text
    model = unique_model(prefix)
    field = "reasoning" if provider == "openrouter" else "reasoning_content"
    script = Behaviour(answer=ANSWER, reasoning=THOUGHT, reasoning_field=field, **behaviour)  # type: ignore[arg-type]
    stack.fake.script(wire, *[script] * 4, model=model)  # answers and titles alike
    return await new_thread(me, provider, model), model


@pytest.mark.parametrize(
    ("provider", "wire", "prefix", "counted"),
    [
        ("anthropic", "anthropic", "claude", False),
        ("deepseek", "openai", "deepseek", True),
        ("openrouter", "openai", "or", True),
        ("google", "google", "gemini", True),
    ],
)
async def test_reasoning_streams_first_and_is_stored_apart(
    me: User, provider_stack: ChatStack, provider: str, wire: str, prefix: str, counted: bool
) -> None:
    thread, _ = await thinking_thread(me, provider_stack, provider, wire, prefix)
    evs = await chat(me, str(thread["id"]), "Hi!")
    assert evs[-1].event == "message_end", evs[-1]
    kinds = [e.event for e in evs if e.event in ("reasoning", "token")]
    assert kinds[0] == "reasoning" and "token" in kinds
    assert "reasoning" not in kinds[kinds.index("token") :]  # all of it before the answer
    assert all(e.id is not None for e in evs if e.event == "reasoning")  # resumable ids
    assert reasoning_of(evs) == THOUGHT
    assert text_of(evs) == ANSWER

    answer = (await messages(me, str(thread["id"])))[-1]
    assert (answer["content"], answer["reasoning"]) == (ANSWER, THOUGHT)
    usage = answer["usage"]
    if counted:
        assert usage["reasoning_tokens"] == len(THOUGHT.split())
        assert evs[-1].data["usage"]["reasoning_tokens"] == len(THOUGHT.split())
    else:  # Anthropic counts thinking in output_tokens, not apart
        assert "reasoning_tokens" not in usage
    question = (await messages(me, str(thread["id"])))[0]
    assert question["reasoning"] is None


async def test_next_turn_sends_no_reasoning_to_the_provider(
    me: User, provider_stack: ChatStack
) -> None:
    thread, model = await thinking_thread(me, provider_stack, "anthropic", "anthropic", "claude")
    await chat(me, str(thread["id"]), "First question")
    await chat(me, str(thread["id"]), "Second question")
    [second] = [
        r
        for r in provider_stack.fake.requests_for("anthropic", model)
        if r.body["messages"][-1]["content"] == "Second question"
    ]
    history = second.body["messages"]
    assert [m["role"] for m in history] == ["user", "assistant", "user"]
    assert history[1]["content"] == ANSWER  # the answer's content only
    assert "I should answer politely" not in second.texts()
    assert "thinking" not in str(history)


async def test_last_event_id_resumes_reasoning_like_tokens(
    me: User, provider_stack: ChatStack
) -> None:
    thread, _ = await thinking_thread(me, provider_stack, "deepseek", "openai", "deepseek")
    first = await chat(me, str(thread["id"]), "Hi!")
    start, thoughts = first[0], [e for e in first if e.event == "reasoning"]
    assert len(thoughts) >= 1
    url = f"/api/threads/{thread['id']}/messages/{start.data['message_id']}/stream"
    async with me.client.stream("GET", url, headers=me.headers) as response:
        whole = await read_all(response)
    assert reasoning_of(whole) == THOUGHT and text_of(whole) == ANSWER
    after = thoughts[0].id
    headers = {**me.headers, "Last-Event-ID": str(after)}
    async with me.client.stream("GET", url, headers=headers) as response:
        resumed = await read_all(response)
    # exactly what came after that event: the rest of the reasoning, then the answer
    rest = [e for e in first if e.id is not None and after is not None and e.id > after]
    assert [(e.event, e.data) for e in resumed if e.id is not None] == [
        (e.event, e.data) for e in rest
    ]
    assert reasoning_of(resumed) == THOUGHT.removeprefix(thoughts[0].data["text"])


async def test_a_cancelled_answer_keeps_the_reasoning_it_streamed(
    me: User, provider_stack: ChatStack
) -> None:
    thread, _ = await thinking_thread(
        me, provider_stack, "google", "google", "gemini", interval=0.2
    )
    seen: list[Event] = []
    url = f"/api/threads/{thread['id']}/chat"
    async with me.client.stream(
        "POST", url, json={"content": "Hi!"}, headers=me.headers
    ) as response:
        async for ev in events(response):
            seen.append(ev)
            if ev.event == "reasoning" and sum(e.event == "reasoning" for e in seen) == 2:
                message_id = seen[0].data["message_id"]
                r = await me.post(f"/api/threads/{thread['id']}/messages/{message_id}/cancel")
                assert r.status_code == 202, r.text
            if ev.event in ("message_end", "error", "cancelled"):
                break
    assert seen[-1].event == "cancelled"
    answer = (await messages(me, str(thread["id"])))[-1]
    assert answer["status"] == "cancelled"
    assert answer["reasoning"] == reasoning_of(seen)
    assert answer["reasoning"] and THOUGHT.startswith(answer["reasoning"])
    assert answer["content"] == text_of(seen)


async def test_v1_passes_reasoning_on_as_reasoning_content(
    me: User, provider_stack: ChatStack
) -> None:
    """/v1 speaks DeepSeek's extension: `delta.reasoning_content` in the chunks (read by the
    openai SDK as an extra attribute), `message.reasoning_content` in a whole reply."""
    _, model = await thinking_thread(me, provider_stack, "deepseek", "openai", "deepseek")
    async with AsyncOpenAI(
        base_url=f"{provider_stack.stack.base_url}/v1", api_key=me.token, max_retries=0
    ) as sdk:
        chunks = await sdk.chat.completions.create(
            model=f"deepseek/{model}",
            messages=[{"role": "user", "content": "Hi!"}],
            stream=True,
            stream_options={"include_usage": True},
        )
        thought, text, usage = "", "", None
        async for chunk in chunks:
            if chunk.usage is not None:
                usage = chunk.usage
            for choice in chunk.choices:
                thought += getattr(choice.delta, "reasoning_content", None) or ""
                text += choice.delta.content or ""
        assert (thought, text) == (THOUGHT, ANSWER)
        assert usage is not None and usage.completion_tokens_details is not None
        assert usage.completion_tokens_details.reasoning_tokens == len(THOUGHT.split())

        whole = await sdk.chat.completions.create(
            model=f"deepseek/{model}", messages=[{"role": "user", "content": "Hi!"}]
        )
        message = whole.choices[0].message
        assert message.content == ANSWER
        assert getattr(message, "reasoning_content", None) == THOUGHT
