"""The openai-compatible adapter through the real `openai` SDK against a local server that
speaks the Chat Completions streaming format (chunks, a usage chunk, `data: [DONE]`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chat_worker.providers.base import (
    ChatMessage,
    ChatRequest,
    Delta,
    ProviderCredentials,
    ProviderError,
    StreamResult,
)
from chat_worker.providers.chat_completions import ChatCompletionsAdapter
from chat_worker.providers.options import ClientOptions
from tests.support.adapters import closing
from tests.support.fake_providers import THOUGHT, Behaviour, FakeProviders

KEY = "sk-test-openai-0123456789abcdef"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeProviders]:
    with FakeProviders(expected_keys={"openai": KEY}) as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh(fake: FakeProviders) -> None:
    fake.reset()


def adapter(name: str = "openai", read_timeout: float = 10.0) -> ChatCompletionsAdapter:
    return closing(
        ChatCompletionsAdapter(name, ClientOptions(connect_timeout=2, read_timeout=read_timeout))
    )


def creds(fake: FakeProviders, key: str = KEY) -> ProviderCredentials:
    return ProviderCredentials("openai", api_key=key, base_url=fake.openai_base_url)


async def deltas(
    fake: FakeProviders, model: str = "gpt-fake", key: str = KEY, **kw: object
) -> tuple[list[Delta], StreamResult]:
    result = StreamResult()
    history = [
        ChatMessage("user", "First question"),
        ChatMessage("assistant", "First answer"),
        ChatMessage("user", "Second question"),
    ]
    got = [
        d
        async for d in adapter(**kw).stream_chat(  # type: ignore[arg-type]
            creds(fake, key), ChatRequest(model, "Be brief.", history, 50), result
        )
    ]
    return got, result


async def collect(
    fake: FakeProviders, model: str = "gpt-fake", key: str = KEY, **kw: object
) -> tuple[list[str], StreamResult]:
    """The answer's text deltas (reasoning left out)."""
    got, result = await deltas(fake, model, key, **kw)
    return [d.text for d in got if d.kind == "text"], result


async def test_streams_text_usage_and_finish_reason(fake: FakeProviders) -> None:
    parts, result = await collect(fake)
    assert len(parts) > 3
    assert "".join(parts) == fake.answer
    assert result.finish_reason == "stop"
    assert result.usage is not None and result.usage["output_tokens"] == len(parts)


async def test_request_carries_system_prompt_history_and_limits(fake: FakeProviders) -> None:
    await collect(fake)
    [request] = fake.requests_for("openai")
    body = request.body
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert body["max_completion_tokens"] == 50
    assert [m["role"] for m in body["messages"]] == ["system", "user", "assistant", "user"]
    assert body["messages"][0]["content"] == "Be brief."
    assert body["messages"][-1]["content"] == "Second question"
    assert request.headers["authorization"] == f"Bearer {KEY}"


async def test_compatible_providers_send_max_tokens(fake: FakeProviders) -> None:
    await collect(fake, name="deepseek")
    assert fake.requests_for("openai")[0].body["max_tokens"] == 50


async def test_lists_models(fake: FakeProviders) -> None:
    models = await adapter().list_models(creds(fake))
    assert [m.id for m in models] == ["gpt-fake", "gpt-fake-mini"]


@pytest.mark.parametrize(
    ("model", "code"),
    [
        ("fail-403", "provider_auth_failed"),
        ("fail-429", "rate_limited"),
        ("fail-500", "provider_unavailable"),
        ("fail-503", "provider_unavailable"),
        ("fail-404", "provider_error"),
        ("context-too-long", "context_too_long"),
    ],
)
async def test_http_errors_map_to_stable_codes(fake: FakeProviders, model: str, code: str) -> None:
    with pytest.raises(ProviderError) as caught:
        await collect(fake, model=model)
    assert caught.value.code == code
    assert caught.value.transient == (code in ("rate_limited", "provider_unavailable"))


async def test_wrong_key_is_auth_failed_and_never_echoed(fake: FakeProviders) -> None:
    wrong = "sk-wrong-key-abcdefghijklmnop"
    with pytest.raises(ProviderError) as caught:
        await collect(fake, key=wrong)
    assert caught.value.code == "provider_auth_failed"
    assert wrong not in str(caught.value) and wrong not in caught.value.message
    with pytest.raises(ProviderError) as listing:
        await adapter().list_models(creds(fake, wrong))
    assert listing.value.code == "provider_auth_failed"


async def test_retry_after_is_passed_on(fake: FakeProviders) -> None:
    fake.script("openai", Behaviour(kind="status", status=429, retry_after="3"))
    with pytest.raises(ProviderError) as caught:
        await collect(fake)
    assert caught.value.retry_after == 3.0


async def test_dropped_stream_is_unavailable_after_the_first_tokens(fake: FakeProviders) -> None:
    got: list[str] = []

    async def consume() -> None:
        async for text in adapter().stream_chat(
            creds(fake), ChatRequest("drop", "", [ChatMessage("user", "hi")]), StreamResult()
        ):
            got.append(text)

    with pytest.raises(ProviderError) as caught:
        await consume()
    assert caught.value.code == "provider_unavailable"
    assert 0 < len(got) < len(fake.answer.split())


async def test_error_frame_inside_the_stream(fake: FakeProviders) -> None:
    fake.script("openai", Behaviour(kind="error_event"))
    with pytest.raises(ProviderError) as caught:
        await collect(fake)
    assert caught.value.code == "provider_unavailable"


async def test_hanging_provider_times_out_as_unavailable(fake: FakeProviders) -> None:
    fake.script("openai", Behaviour(kind="hang", hang_seconds=5))
    with pytest.raises(ProviderError) as caught:
        await collect(fake, read_timeout=0.5)
    assert caught.value.code == "provider_unavailable"


async def test_nothing_listening_is_unavailable() -> None:
    dead = ProviderCredentials("openai", api_key=KEY, base_url="http://127.0.0.1:9/v1")
    with pytest.raises(ProviderError) as caught:
        async for _ in adapter().stream_chat(
            dead, ChatRequest("m", "", [ChatMessage("user", "x")]), StreamResult()
        ):
            pass
    assert caught.value.code == "provider_unavailable"


@pytest.mark.parametrize(
    ("provider", "model"),
    [("deepseek", "think"), ("openrouter", "think-openrouter"), ("ollama", "think-openrouter")],
)
async def test_reasoning_fields_stream_as_reasoning_apart_from_text(
    fake: FakeProviders, provider: str, model: str
) -> None:
    """DeepSeek's `delta.reasoning_content`, OpenRouter's (and Ollama's) `delta.reasoning`:
    reasoning before the text, its tokens from `completion_tokens_details`."""
    got, result = await deltas(fake, model=model, name=provider)
    assert got[0].kind == "reasoning"
    assert "".join(d.text for d in got if d.kind == "reasoning") == THOUGHT
    assert "".join(d.text for d in got if d.kind == "text") == fake.answer
    assert result.usage is not None
    assert result.usage["reasoning_tokens"] == len(THOUGHT.split())


async def test_no_reasoning_no_reasoning_tokens(fake: FakeProviders) -> None:
    got, result = await deltas(fake)
    assert {d.kind for d in got} == {"text"}
    assert result.usage is not None and "reasoning_tokens" not in result.usage
