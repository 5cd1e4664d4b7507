"""The OpenAI-compatible endpoint, driven by the official `openai` SDK as the client: streamed
and whole answers from `echo`, a thread continued, every exchange stored like any chat; the
`system`/`developer` messages and the sampling parameters as the fake providers received them,
and parameters it cannot honour refused by name; and every error under /v1 (401, 404, 405,
413, 400 validation, 429 with Retry-After, 503) in OpenAI's shape, raised by the SDK as its own
exception classes, while /api keeps `{"detail"}`.

The 429 and 503 cases use gateways of their own: one with low limits on the session's NATS
(so the session's threads service and worker answer it), one whose NATS is not there."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
import pytest_asyncio
from openai import AsyncOpenAI

from tests.conftest import User, register
from tests.support.chat_stack import ChatStack
from tests.support.gateways import lone_gateway
from tests.support.provider_chat import answer_request, unique_model
from tests.support.servers import Infra, free_port
from tests.support.stack import Stack

THREAD = "X-Switchboard-Thread"
CHAT_BURST = 2
MAX_BODY = 2 * 1024 * 1024  # the gateway's default max_body_bytes
OPENAI_ERROR_FIELDS = {"message", "type", "param", "code"}


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


async def test_an_idempotency_key_replays_the_first_thread_and_answer(
    sdk: AsyncOpenAI, user: User
) -> None:
    """The new thread, its earlier messages and the chat are one command: sent again with the
    same key, it names the same thread and answer and stores nothing more, a bare provider
    name answering as the model it resolved to."""
    ask = {
        "model": "echo",
        "messages": [
            {"role": "user", "content": "before"},
            {"role": "assistant", "content": "said before"},
            {"role": "user", "content": "once only"},
        ],
        "extra_headers": {"Idempotency-Key": f"v1-{uuid.uuid4()}"},
    }
    first = await sdk.chat.completions.with_raw_response.create(**ask)  # type: ignore[call-overload]
    again = await sdk.chat.completions.with_raw_response.create(**ask)  # type: ignore[call-overload]
    assert again.headers[THREAD] == first.headers[THREAD]
    assert again.parse().id == first.parse().id
    assert first.parse().model == again.parse().model == "echo/echo"
    listed = (await user.get("/api/threads")).json()
    assert [t["id"] for t in listed["threads"]] == [first.headers[THREAD]]
    messages = (await stored(user, first.headers[THREAD]))["messages"]
    assert [m["content"] for m in messages] == [
        "before",
        "said before",
        "once only",
        "Echo: once only",
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


def openai_shaped(body: object) -> dict[str, Any]:
    """The SDK hands over `body["error"]`; it must carry OpenAI's four fields."""
    assert isinstance(body, dict) and set(body) == OPENAI_ERROR_FIELDS, body
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["type"], str) and body["type"]
    return body


@pytest.fixture(scope="module")
def limited_gateway(infra: Infra, stack: Stack, artifacts_dir: Path) -> Iterator[str]:
    log_dir = Path(tempfile.mkdtemp(prefix="openai-limits-", dir=artifacts_dir))
    with lone_gateway(
        log_dir,
        infra.nats_url,
        ready=True,
        GATEWAY_RATE_LIMIT_CHATS_PER_MINUTE="1",
        GATEWAY_RATE_LIMIT_CHATS_BURST=str(CHAT_BURST),
    ) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def gateway_without_nats(artifacts_dir: Path) -> Iterator[str]:
    log_dir = Path(tempfile.mkdtemp(prefix="openai-no-nats-", dir=artifacts_dir))
    nowhere = f"nats://127.0.0.1:{free_port()}"
    with lone_gateway(log_dir, nowhere, ready=False, GATEWAY_REQUEST_TIMEOUT="2") as base_url:
        yield base_url


async def test_a_bad_token_is_an_authentication_error(stack: Stack) -> None:
    async with AsyncOpenAI(
        base_url=f"{stack.base_url}/v1", api_key="not-a-token", max_retries=0
    ) as anonymous:
        with pytest.raises(openai.AuthenticationError) as err:
            await anonymous.chat.completions.create(
                model="echo/echo", messages=[{"role": "user", "content": "hi"}]
            )
    body = openai_shaped(err.value.body)
    assert err.value.status_code == 401
    assert body["message"] == "Invalid or expired token"
    assert (body["type"], body["code"]) == ("authentication_error", "invalid_api_key")
    # No token at all: the same shape (the SDK always sends one, so ask plainly).
    async with httpx.AsyncClient(base_url=stack.base_url) as plain:
        r = await plain.get("/v1/models")
    assert r.status_code == 401
    openai_shaped(r.json()["error"])


async def test_unknown_paths_and_methods_are_openai_errors(sdk: AsyncOpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as err:
        await sdk.models.retrieve("echo")  # GET /v1/models/echo: no such route
    assert openai_shaped(err.value.body)["type"] == "not_found_error"
    with pytest.raises(openai.APIStatusError) as wrong:
        await sdk.get("/chat/completions", cast_to=object)
    assert wrong.value.status_code == 405
    openai_shaped(wrong.value.body)


async def test_validation_errors_are_bad_requests_naming_the_field(sdk: AsyncOpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as err:
        await sdk.chat.completions.create(model="echo/echo", messages=[])
    body = openai_shaped(err.value.body)
    assert body["param"] == "messages"
    assert body["type"] == "invalid_request_error"
    with pytest.raises(openai.BadRequestError) as bad_role:
        await sdk.chat.completions.create(
            model="echo/echo",
            messages=[{"role": "wizard", "content": "hi"}],  # type: ignore[list-item, misc]
        )
    assert openai_shaped(bad_role.value.body)["param"] == "messages.0.role"


async def test_a_body_over_the_limit_is_413_in_openai_shape(sdk: AsyncOpenAI, user: User) -> None:
    with pytest.raises(openai.APIStatusError) as err:
        await sdk.chat.completions.create(
            model="echo/echo", messages=[{"role": "user", "content": "x" * (MAX_BODY + 1)}]
        )
    assert err.value.status_code == 413
    body = openai_shaped(err.value.body)
    assert body["code"] == "request_too_large" and str(MAX_BODY) in body["message"]
    # /api keeps its own shape.
    r = await user.post("/api/projects", content=b"{" + b" " * MAX_BODY + b"}")
    assert r.status_code == 413 and isinstance(r.json()["detail"], str)


async def test_over_the_chat_limit_is_a_rate_limit_error_with_retry_after(
    limited_gateway: str, client: httpx.AsyncClient
) -> None:
    user = await register(client)
    async with AsyncOpenAI(
        base_url=f"{limited_gateway}/v1", api_key=user.token, max_retries=0, timeout=30
    ) as sdk:
        for _ in range(CHAT_BURST):
            answer = await sdk.chat.completions.create(
                model="echo/echo", messages=[{"role": "user", "content": "within the limit"}]
            )
            assert answer.choices[0].message.content == "Echo: within the limit"
        with pytest.raises(openai.RateLimitError) as err:
            await sdk.chat.completions.create(
                model="echo/echo", messages=[{"role": "user", "content": "one too many"}]
            )
        assert err.value.status_code == 429
        assert int(err.value.response.headers["Retry-After"]) >= 1
        body = openai_shaped(err.value.body)
        assert (body["type"], body["code"]) == ("rate_limit_error", "rate_limit_exceeded")
        # Reads are not limited; the refused chat stored nothing.
        assert [m.id async for m in sdk.models.list()]
    threads = (await user.get("/api/threads")).json()["threads"]
    assert len(threads) == CHAT_BURST
    # On /api the same gateway keeps `{"detail"}`.
    r = await client.post(
        f"{limited_gateway}/api/threads/{threads[0]['id']}/chat",
        json={"content": "still limited"},
        headers=user.headers,
    )
    assert r.status_code == 429 and isinstance(r.json()["detail"], str)


async def test_nats_away_is_503_with_retry_after(gateway_without_nats: str, user: User) -> None:
    async with AsyncOpenAI(
        base_url=f"{gateway_without_nats}/v1", api_key=user.token, max_retries=0, timeout=30
    ) as sdk:
        with pytest.raises(openai.InternalServerError) as err:
            await sdk.chat.completions.create(
                model="echo/echo", messages=[{"role": "user", "content": "anyone there?"}]
            )
        with pytest.raises(openai.InternalServerError) as listing:
            await sdk.models.list()
    for exc in (err.value, listing.value):
        assert exc.status_code == 503
        assert int(exc.response.headers["Retry-After"]) >= 1
        body = openai_shaped(exc.body)
        assert body["type"] == "service_unavailable_error"


# -- instructions and parameters, against the fake providers (issue 16) -----------------------


@pytest_asyncio.fixture
async def fake_sdk(provider_stack: ChatStack) -> AsyncIterator[tuple[AsyncOpenAI, User]]:
    """An SDK client of a fresh user on the stack whose providers are the fake servers."""
    base = provider_stack.stack.base_url
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        someone = await register(client)
        async with AsyncOpenAI(
            base_url=f"{base}/v1", api_key=someone.token, max_retries=0, timeout=30
        ) as sdk:
            yield sdk, someone


@pytest.mark.parametrize("stream", [False, True])
async def test_system_and_developer_messages_reach_the_provider_as_instructions(
    fake_sdk: tuple[AsyncOpenAI, User], provider_stack: ChatStack, stream: bool
) -> None:
    sdk, someone = fake_sdk
    model = unique_model()
    raw = await sdk.chat.completions.with_raw_response.create(
        model=f"openai/{model}",
        messages=[
            {"role": "system", "content": "You are a pirate."},
            {"role": "user", "content": "earlier question"},
            {"role": "assistant", "content": "earlier answer"},
            {"role": "developer", "content": "Answer in one line."},
            {"role": "user", "content": "Where is the treasure?"},
        ],
        stream=stream,
    )
    parsed = raw.parse()
    if stream:
        text = "".join([c.choices[0].delta.content or "" async for c in parsed if c.choices])
    else:
        text = parsed.choices[0].message.content or ""
    assert text == provider_stack.fake.answer

    sent = answer_request(provider_stack, "openai", model).body["messages"]
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "user"]
    system = sent[0]["content"]
    assert system.index("general-purpose assistant") < system.index("You are a pirate.")
    assert system.endswith("You are a pirate.\n\nAnswer in one line.")
    assert [m["content"] for m in sent[1:]] == [
        "earlier question",
        "earlier answer",
        "Where is the treasure?",
    ]
    # instructions of this request, never stored as messages of the thread
    thread = await stored(someone, raw.headers[THREAD])
    assert [m["role"] for m in thread["messages"]] == ["user", "assistant"] * 2


async def test_with_the_thread_header_they_come_after_the_threads_own(
    fake_sdk: tuple[AsyncOpenAI, User], provider_stack: ChatStack
) -> None:
    sdk, someone = fake_sdk
    model = unique_model()
    r = await someone.post(
        "/api/threads",
        json={"model_provider": "openai", "model": model, "instructions": "THREAD-RULE"},
    )
    await sdk.chat.completions.create(
        model=f"openai/{model}",
        messages=[
            {"role": "system", "content": "REQUEST-RULE"},
            {"role": "user", "content": "go on"},
        ],
        extra_headers={THREAD: r.json()["id"]},
    )
    system = answer_request(provider_stack, "openai", model).body["messages"][0]["content"]
    assert system.index("THREAD-RULE") < system.index("REQUEST-RULE")


@pytest.mark.parametrize("stream", [False, True])
async def test_sampling_parameters_are_honoured(
    fake_sdk: tuple[AsyncOpenAI, User], provider_stack: ChatStack, stream: bool
) -> None:
    sdk, someone = fake_sdk
    model = unique_model("claude")
    raw = await sdk.chat.completions.with_raw_response.create(
        model=f"anthropic/{model}",
        messages=[{"role": "user", "content": "Count to ten"}],
        temperature=0.7,
        top_p=0.9,
        max_tokens=999,
        max_completion_tokens=123,  # wins over max_tokens, as OpenAI's newer name
        stop="SEVEN",
        n=1,
        user="end-user-42",
        stream=stream,
    )
    parsed = raw.parse()
    if stream:
        [_ async for _ in parsed]
    body = answer_request(provider_stack, "anthropic", model).body
    assert (body["temperature"], body["top_p"], body["max_tokens"]) == (0.7, 0.9, 123)
    assert body["stop_sequences"] == ["SEVEN"]
    answer = (await stored(someone, raw.headers[THREAD]))["messages"][-1]
    assert answer["metadata"]["options"] == {
        "temperature": 0.7,
        "top_p": 0.9,
        "max_tokens": 123,
        "stop": ["SEVEN"],
    }


UNSUPPORTED: list[tuple[str, Any]] = [
    ("n", 2),
    ("logprobs", True),
    ("top_logprobs", 3),
    ("tools", [{"type": "function", "function": {"name": "f", "parameters": {}}}]),
    ("tool_choice", "auto"),
    ("functions", [{"name": "f", "parameters": {}}]),
    ("response_format", {"type": "json_object"}),
    ("logit_bias", {"50256": -100}),
    ("seed", 7),
    ("presence_penalty", 0.5),
    ("frequency_penalty", 1.0),
    ("reasoning_effort", "high"),
    ("made_up_parameter", "x"),
]


@pytest.mark.parametrize(("param", "value"), UNSUPPORTED, ids=[p for p, _ in UNSUPPORTED])
async def test_a_parameter_it_cannot_honour_is_a_400_naming_it(
    fake_sdk: tuple[AsyncOpenAI, User], provider_stack: ChatStack, param: str, value: Any
) -> None:
    sdk, someone = fake_sdk
    model = unique_model()
    with pytest.raises(openai.BadRequestError) as err:
        await sdk.chat.completions.create(
            model=f"openai/{model}",
            messages=[{"role": "user", "content": "hi"}],
            extra_body={param: value},
        )
    body = err.value.body
    assert isinstance(body, dict) and set(body) == OPENAI_ERROR_FIELDS
    assert body["param"] == param and body["type"] == "invalid_request_error"
    assert body["code"] == "unsupported_parameter" and param in body["message"]
    assert provider_stack.fake.requests_for("openai", model) == []
    assert (await someone.get("/api/threads")).json()["total"] == 0  # nothing stored


@pytest.mark.parametrize(
    ("param", "value"),
    [("temperature", 2.5), ("top_p", -0.1), ("max_tokens", 0), ("stop", ["a"] * 5)],
)
async def test_out_of_range_parameters_are_400_naming_them(
    fake_sdk: tuple[AsyncOpenAI, User], param: str, value: Any
) -> None:
    sdk, someone = fake_sdk
    with pytest.raises(openai.BadRequestError) as err:
        await sdk.chat.completions.create(
            model="echo/echo",
            messages=[{"role": "user", "content": "hi"}],
            extra_body={param: value},
        )
    assert err.value.body["param"].startswith(param)  # type: ignore[index]
    assert (await someone.get("/api/threads")).json()["total"] == 0
