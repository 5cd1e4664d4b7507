"""The Anthropic adapter through the real `anthropic` SDK against a local server that speaks
the Messages streaming format (message_start … content_block_delta … message_stop)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chat_worker.providers.anthropic import AnthropicAdapter
from chat_worker.providers.base import (
    ChatMessage,
    ChatRequest,
    Delta,
    ProviderCredentials,
    ProviderError,
    StreamResult,
)
from chat_worker.providers.options import ClientOptions
from tests.support.adapters import closing
from tests.support.fake_providers import THOUGHT, Behaviour, FakeProviders

KEY = "sk-ant-test-0123456789abcdefghij"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeProviders]:
    with FakeProviders(expected_keys={"anthropic": KEY}) as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh(fake: FakeProviders) -> None:
    fake.reset()


def adapter(read_timeout: float = 10.0) -> AnthropicAdapter:
    return closing(AnthropicAdapter(ClientOptions(connect_timeout=2, read_timeout=read_timeout)))


def creds(fake: FakeProviders, key: str = KEY) -> ProviderCredentials:
    return ProviderCredentials("anthropic", api_key=key, base_url=fake.anthropic_base_url)


async def deltas(
    fake: FakeProviders, model: str = "claude-fake", key: str = KEY, read_timeout: float = 10.0
) -> tuple[list[Delta], StreamResult]:
    result = StreamResult()
    history = [
        ChatMessage("user", "First question"),
        ChatMessage("assistant", "First answer"),
        ChatMessage("user", "Second question"),
    ]
    got = [
        d
        async for d in adapter(read_timeout).stream_chat(
            creds(fake, key), ChatRequest(model, "Be brief.", history, 50), result
        )
    ]
    return got, result


async def collect(
    fake: FakeProviders, model: str = "claude-fake", key: str = KEY, read_timeout: float = 10.0
) -> tuple[list[str], StreamResult]:
    """The answer's text deltas (reasoning left out)."""
    got, result = await deltas(fake, model, key, read_timeout=read_timeout)
    return [d.text for d in got if d.kind == "text"], result


async def test_streams_text_usage_and_stop_reason(fake: FakeProviders) -> None:
    parts, result = await collect(fake)
    assert "".join(parts) == fake.answer
    assert len(parts) > 3
    assert result.finish_reason == "stop"  # end_turn, normalised
    assert result.usage == {"input_tokens": 12, "output_tokens": len(parts)}


async def test_request_carries_system_prompt_and_history(fake: FakeProviders) -> None:
    await collect(fake)
    [request] = fake.requests_for("anthropic")
    assert request.body["system"] == "Be brief."
    assert request.body["max_tokens"] == 50
    assert request.body["stream"] is True
    assert [m["role"] for m in request.body["messages"]] == ["user", "assistant", "user"]
    given = request.headers.get("x-api-key") or request.headers.get("authorization", "")
    assert given.removeprefix("Bearer ") == KEY


async def test_lists_models(fake: FakeProviders) -> None:
    models = await adapter().list_models(creds(fake))
    assert [(m.id, m.display_name) for m in models] == [("claude-fake", "Claude Fake")]


@pytest.mark.parametrize(
    ("model", "code"),
    [
        ("fail-401", "provider_auth_failed"),
        ("fail-429", "rate_limited"),
        ("fail-500", "provider_unavailable"),
        ("fail-529", "provider_unavailable"),
        ("fail-404", "provider_error"),
        ("context-too-long", "context_too_long"),
    ],
)
async def test_http_errors_map_to_stable_codes(fake: FakeProviders, model: str, code: str) -> None:
    with pytest.raises(ProviderError) as caught:
        await collect(fake, model=model)
    assert caught.value.code == code


async def test_wrong_key_is_auth_failed_and_never_echoed(fake: FakeProviders) -> None:
    wrong = "sk-ant-wrong-abcdefghijklmnop"
    with pytest.raises(ProviderError) as caught:
        await collect(fake, key=wrong)
    assert caught.value.code == "provider_auth_failed"
    assert wrong not in caught.value.message
    with pytest.raises(ProviderError) as listing:
        await adapter().list_models(creds(fake, wrong))
    assert listing.value.code == "provider_auth_failed"


async def test_error_event_inside_the_stream(fake: FakeProviders) -> None:
    fake.script("anthropic", Behaviour(kind="error_event", error_type="overloaded_error"))
    with pytest.raises(ProviderError) as caught:
        await collect(fake)
    assert caught.value.code == "provider_unavailable"


async def test_dropped_stream_is_unavailable(fake: FakeProviders) -> None:
    with pytest.raises(ProviderError) as caught:
        await collect(fake, model="drop")
    assert caught.value.code == "provider_unavailable"


async def test_hanging_provider_times_out_as_unavailable(fake: FakeProviders) -> None:
    fake.script("anthropic", Behaviour(kind="hang", hang_seconds=5))
    with pytest.raises(ProviderError) as caught:
        await collect(fake, read_timeout=0.5)
    assert caught.value.code == "provider_unavailable"


async def test_extended_thinking_streams_as_reasoning_apart_from_text(
    fake: FakeProviders,
) -> None:
    """A `thinking` block's `thinking_delta`s come out as reasoning, before the text; its
    `signature_delta` is neither; Anthropic counts no reasoning tokens apart."""
    got, result = await deltas(fake, model="think")
    kinds = [d.kind for d in got]
    first_text = kinds.index("text")
    assert set(kinds[:first_text]) == {"reasoning"} and "reasoning" not in kinds[first_text:]
    assert "".join(d.text for d in got if d.kind == "reasoning") == THOUGHT
    assert "".join(d.text for d in got if d.kind == "text") == fake.answer
    assert not any("EqQB" in d.text for d in got)  # the signature is not text
    assert result.usage is not None and "reasoning_tokens" not in result.usage
