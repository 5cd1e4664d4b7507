"""Generation options (issue 16): `options: {temperature, top_p, max_tokens, stop}` on chat,
regenerate and edit reach each provider in its own SDK's parameters (as the fake wire-format
servers received them), are recorded in the answer's `metadata.options`, and out-of-range or
unknown ones are refused with 422 before anything is stored."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from tests.conftest import User, register
from tests.support.chat_stack import KEYS, ChatStack
from tests.support.provider_chat import (
    answer_request,
    chat,
    messages,
    new_thread,
    stream,
    unique_model,
)

OPTIONS = {"temperature": 0.25, "top_p": 0.5, "max_tokens": 77, "stop": ["END", "\n\nQ:"]}


@pytest_asyncio.fixture
async def me(provider_stack: ChatStack) -> AsyncIterator[User]:
    async with httpx.AsyncClient(base_url=provider_stack.stack.base_url, timeout=30) as client:
        yield await register(client)


def sent_options(provider: str, body: dict[str, Any]) -> dict[str, Any]:
    """The four options as the request carried them, under each API's own names."""
    if provider == "anthropic":
        names = {"temperature": "temperature", "top_p": "top_p", "max_tokens": "max_tokens"}
        return {**{k: body.get(v) for k, v in names.items()}, "stop": body.get("stop_sequences")}
    if provider == "google":
        config = body["generationConfig"]
        return {
            "temperature": config.get("temperature"),
            "top_p": config.get("topP"),
            "max_tokens": config.get("maxOutputTokens"),
            "stop": config.get("stopSequences"),
        }
    limit = "max_completion_tokens" if provider == "openai" else "max_tokens"
    return {
        "temperature": body.get("temperature"),
        "top_p": body.get("top_p"),
        "max_tokens": body.get(limit),
        "stop": body.get("stop"),
    }


# deepseek speaks Chat Completions at its own base URL (here the fake's), with `max_tokens`
@pytest.mark.parametrize(
    ("provider", "wire", "prefix"),
    [
        ("openai", "openai", "gpt"),
        ("anthropic", "anthropic", "claude"),
        ("google", "google", "gemini"),
        ("deepseek", "openai", "deepseek"),
    ],
)
async def test_each_adapter_sends_them_in_its_sdk_parameters(
    me: User, provider_stack: ChatStack, provider: str, wire: str, prefix: str
) -> None:
    if provider == "deepseek":
        config = {"api_key": KEYS["openai"], "base_url": provider_stack.fake.openai_base_url}
        r = await me.put("/api/providers/deepseek/config", json=config)
        assert r.status_code == 200, r.text
    model = unique_model(prefix)
    thread = await new_thread(me, provider, model)
    evs = await chat(me, thread["id"], "Tell me a story", options=OPTIONS)
    assert evs[-1].event == "message_end", evs[-1]

    body = answer_request(provider_stack, wire, model).body
    assert sent_options(provider, body) == OPTIONS
    if provider == "openai":  # OpenAI's newer models take only max_completion_tokens
        assert "max_tokens" not in body
    if provider == "deepseek":
        assert "max_completion_tokens" not in body
    answer = (await messages(me, thread["id"]))[-1]
    assert answer["metadata"]["options"] == OPTIONS


async def test_without_options_the_provider_defaults_apply(
    me: User, provider_stack: ChatStack
) -> None:
    model = unique_model()
    thread = await new_thread(me, "openai", model)
    await chat(me, thread["id"], "No options")
    body = answer_request(provider_stack, "openai", model).body
    assert not {"temperature", "top_p", "stop"} & set(body)
    assert body["max_completion_tokens"] == 4096  # WORKER_MAX_TOKENS
    answer = (await messages(me, thread["id"]))[-1]
    assert "options" not in (answer["metadata"] or {})


async def test_some_options_only_those_are_sent_and_recorded(
    me: User, provider_stack: ChatStack
) -> None:
    model = unique_model("claude")
    thread = await new_thread(me, "anthropic", model)
    await chat(me, thread["id"], "Just warmer", options={"temperature": 1.5})
    body = answer_request(provider_stack, "anthropic", model).body
    assert body["temperature"] == 1.5 and body["max_tokens"] == 4096
    assert not {"top_p", "stop_sequences"} & set(body)
    assert (await messages(me, thread["id"]))[-1]["metadata"]["options"] == {"temperature": 1.5}


async def test_regenerate_and_edit_take_their_own(me: User, provider_stack: ChatStack) -> None:
    model = unique_model()
    thread = await new_thread(me, "openai", model)
    first = await chat(me, thread["id"], "First")
    question, answer = first[0].data["user_message_id"], first[0].data["message_id"]
    base = f"/api/threads/{thread['id']}/messages"

    regen = {"options": {"temperature": 0.0, "stop": ["STOP"]}}
    evs = await stream(me, f"{base}/{answer}/regenerate", regen)
    assert evs[-1].event == "message_end"
    edit = {"content": "First, edited", "options": {"top_p": 0.1, "max_tokens": 5}}
    evs = await stream(me, f"{base}/{question}/edit", edit)
    assert evs[-1].event == "message_end"

    answers = [  # the title request (its own system prompt) may come between them
        r.body
        for r in provider_stack.fake.requests_for("openai", model)
        if "business analyst" in r.body["messages"][0]["content"]
    ]
    regenerated, edited = answers[1:]
    assert (regenerated["temperature"], regenerated["stop"]) == (0.0, ["STOP"])
    assert "top_p" not in regenerated
    assert (edited["top_p"], edited["max_completion_tokens"]) == (0.1, 5)
    assert edited["messages"][-1]["content"] == "First, edited"
    r = await me.get(f"/api/threads/{thread['id']}/messages", params={"path": "all"})
    recorded = [(m["metadata"] or {}).get("options") for m in r.json()["messages"]]
    assert recorded[-3:] == [regen["options"], None, edit["options"]]


async def test_echo_records_them(me: User) -> None:
    thread = await new_thread(me, "echo", "echo")
    evs = await chat(me, thread["id"], "echo this", options={"max_tokens": 3, "stop": ["x"]})
    assert evs[-1].event == "message_end"
    answer = (await messages(me, thread["id"]))[-1]
    assert answer["content"] == "Echo: echo this"  # echo ignores them
    assert answer["metadata"]["options"] == {"max_tokens": 3, "stop": ["x"]}


BAD_OPTIONS = [
    {"temperature": 2.01},
    {"temperature": -0.1},
    {"temperature": "hot"},
    {"top_p": 1.5},
    {"top_p": -1},
    {"max_tokens": 0},
    {"max_tokens": 200_001},
    {"max_tokens": 1.5},
    {"stop": ["a", "b", "c", "d", "e"]},
    {"stop": ["x" * 101]},
    {"stop": [""]},
    {"stop": ["nul\x00"]},
    {"stop": "END"},
    {"seed": 7},
    [0.5],
]


@pytest.mark.parametrize("options", BAD_OPTIONS, ids=[repr(o)[:40] for o in BAD_OPTIONS])
async def test_out_of_range_or_unknown_is_422_and_nothing_is_stored(me: User, options: Any) -> None:
    thread = await new_thread(me, "echo", "echo")
    first = await chat(me, thread["id"], "a question")
    question, answer = first[0].data["user_message_id"], first[0].data["message_id"]
    base = f"/api/threads/{thread['id']}"
    for url, body in (
        (f"{base}/chat", {"content": "again", "options": options}),
        (f"{base}/messages/{answer}/regenerate", {"options": options}),
        (f"{base}/messages/{question}/edit", {"content": "edited", "options": options}),
    ):
        r = await me.post(url, json=body)
        assert r.status_code == 422, (url, r.text)
    after = await me.get(base)
    assert after.json()["message_count"] == 2
