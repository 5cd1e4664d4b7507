"""The Gemini adapter through the real `google-genai` SDK against a local server that speaks
`streamGenerateContent?alt=sse` and the model listing."""

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
from chat_worker.providers.google import GoogleAdapter
from chat_worker.providers.options import ClientOptions
from tests.support.adapters import closing
from tests.support.fake_providers import THOUGHT, Behaviour, FakeProviders, asks_for_thoughts

KEY = "AIza-test-google-0123456789abcdefgh"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeProviders]:
    with FakeProviders(expected_keys={"google": KEY}) as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh(fake: FakeProviders) -> None:
    fake.reset()


def adapter(read_timeout: float = 10.0) -> GoogleAdapter:
    return closing(GoogleAdapter(ClientOptions(connect_timeout=2, read_timeout=read_timeout)))


def creds(fake: FakeProviders, key: str = KEY) -> ProviderCredentials:
    return ProviderCredentials("google", api_key=key, base_url=fake.google_base_url)


async def deltas(
    fake: FakeProviders, model: str = "gemini-fake", key: str = KEY, read_timeout: float = 10.0
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
    fake: FakeProviders, model: str = "gemini-fake", key: str = KEY, read_timeout: float = 10.0
) -> tuple[list[str], StreamResult]:
    """The answer's text deltas (reasoning left out)."""
    got, result = await deltas(fake, model, key, read_timeout=read_timeout)
    return [d.text for d in got if d.kind == "text"], result


async def test_streams_text_usage_and_finish_reason(fake: FakeProviders) -> None:
    parts, result = await collect(fake)
    assert "".join(parts) == fake.answer
    assert len(parts) > 3
    assert result.finish_reason == "stop"
    assert result.usage == {"input_tokens": 9, "output_tokens": len(parts)}


async def test_request_carries_system_instruction_and_history(fake: FakeProviders) -> None:
    await collect(fake)
    [request] = fake.requests_for("google")
    assert request.path == "/v1beta/models/gemini-fake:streamGenerateContent"
    assert request.headers["x-goog-api-key"] == KEY
    body = request.body
    assert "Be brief." in str(body["systemInstruction"])
    assert [c["role"] for c in body["contents"]] == ["user", "model", "user"]
    assert body["generationConfig"]["maxOutputTokens"] == 50


async def test_lists_generation_models_only(fake: FakeProviders) -> None:
    models = await adapter().list_models(creds(fake))
    assert [(m.id, m.display_name) for m in models] == [("gemini-fake", "Gemini Fake")]


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


async def test_wrong_key_is_auth_failed_and_never_echoed(fake: FakeProviders) -> None:
    wrong = "AIza-wrong-key-abcdefghijklmnopq"
    with pytest.raises(ProviderError) as caught:
        await collect(fake, key=wrong)
    assert caught.value.code == "provider_auth_failed"
    assert wrong not in caught.value.message
    with pytest.raises(ProviderError) as listing:
        await adapter().list_models(creds(fake, wrong))
    assert listing.value.code == "provider_auth_failed"


async def test_dropped_stream_is_unavailable(fake: FakeProviders) -> None:
    with pytest.raises(ProviderError) as caught:
        await collect(fake, model="drop")
    assert caught.value.code == "provider_unavailable"


async def test_hanging_provider_times_out_as_unavailable(fake: FakeProviders) -> None:
    fake.script("google", Behaviour(kind="hang", hang_seconds=5))
    with pytest.raises(ProviderError) as caught:
        await collect(fake, read_timeout=1.0)
    assert caught.value.code == "provider_unavailable"


async def test_thought_parts_stream_as_reasoning_apart_from_text(fake: FakeProviders) -> None:
    """Thoughts are asked for (`thinkingConfig.includeThoughts`, else Gemini sends none) and
    parts marked `thought` come out as reasoning; `thoughtsTokenCount` is reasoning_tokens."""
    got, result = await deltas(fake, model="think")
    [request] = fake.requests_for("google")
    assert asks_for_thoughts(request.body)
    assert got[0].kind == "reasoning"
    assert "".join(d.text for d in got if d.kind == "reasoning") == THOUGHT
    assert "".join(d.text for d in got if d.kind == "text") == fake.answer
    assert result.usage is not None
    assert result.usage["reasoning_tokens"] == len(THOUGHT.split())
