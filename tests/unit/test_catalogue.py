"""The model catalogue's logic against stand-in adapters (the real SDKs against local servers
are exercised end to end in tests/e2e/test_models.py)."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from chat_worker.catalogue import Catalogue
from chat_worker.config import Settings
from chat_worker.credentials import CredentialResolver
from chat_worker.providers.base import (
    ChatRequest,
    Delta,
    ModelInfo,
    ProviderCredentials,
    ProviderError,
    StreamResult,
)
from contracts.base import Envelope
from contracts.queries import GetProviderCredentials
from contracts.views import ProviderCredentialsView
from gateway.api.models import catalogue_deadline


@dataclass
class StandIn:
    """Answers list_models after `delay`, or raises `error`; records every call."""

    name: str
    models: list[str] = field(default_factory=lambda: ["m1", "m2"])
    delay: float = 0.0
    error: Exception | None = None
    calls: list[ProviderCredentials] = field(default_factory=list)

    def stream_chat(
        self, creds: ProviderCredentials, chat: ChatRequest, result: StreamResult
    ) -> AsyncIterator[Delta]:
        raise NotImplementedError

    async def list_models(self, creds: ProviderCredentials) -> list[ModelInfo]:
        self.calls.append(creds)
        await asyncio.sleep(self.delay)
        if self.error is not None:
            raise self.error
        return [ModelInfo(m, m.upper()) for m in self.models]


@pytest.fixture(autouse=True)
def no_deployment_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.endswith("_API_KEY") or name.startswith("WORKER_"):
            monkeypatch.delenv(name)


class Threads:
    """Stands in for the threads service's answers to qry.provider.credentials."""

    def __init__(self, **configured: ProviderCredentialsView) -> None:
        self.configured = configured
        self.fail = False

    async def provider_credentials(
        self, meta: Envelope, provider: str
    ) -> ProviderCredentialsView | None:
        if self.fail:
            raise TimeoutError
        return self.configured.get(provider)

    async def call(self, query: GetProviderCredentials) -> ProviderCredentialsView | None:
        """ThreadsClient.call, for the credential resolver."""
        return await self.provider_credentials(query.meta, query.provider)


def user_creds(provider: str, key: str | None = None, **kw: Any) -> ProviderCredentialsView:
    return ProviderCredentialsView(
        provider=provider, configured=True, enabled=kw.pop("enabled", True), api_key=key, **kw
    )


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def build(
    adapters: dict[str, StandIn], threads: Threads, settings: Settings | None = None, **kw: Any
) -> Catalogue:
    settings = settings or Settings()
    resolver = CredentialResolver(settings, threads)  # type: ignore[arg-type]
    return Catalogue(adapters.get, resolver.resolve, threads.provider_credentials, settings, **kw)


def meta() -> Envelope:
    return Envelope(user_id=uuid.uuid4())


def deployment(monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Settings()


async def test_union_of_usable_providers_plus_echo(monkeypatch: pytest.MonkeyPatch) -> None:
    adapters = {n: StandIn(n) for n in ("openai", "anthropic", "google", "ollama", "echo")}
    adapters["echo"].models = ["echo", "echo-slow"]
    threads = Threads(
        openai=user_creds("openai", "sk-user-openai-123456"),
        google=user_creds("google", "g-key-123456789", enabled=False),  # switched off
        ollama=user_creds("ollama", base_url="http://127.0.0.1:1/v1"),  # keyless
    )
    settings = deployment(monkeypatch, ANTHROPIC_API_KEY="sk-ant-deployment-1234")
    view = await build(adapters, threads, settings).list_models(meta())
    assert {(m.provider, m.id) for m in view.models} == {
        ("anthropic", "m1"),
        ("anthropic", "m2"),
        ("openai", "m1"),
        ("openai", "m2"),
        ("ollama", "m1"),
        ("ollama", "m2"),
        ("echo", "echo"),
        ("echo", "echo-slow"),
    }
    assert view.errors == []
    assert [m.provider for m in view.models][:2] == ["anthropic", "anthropic"]  # registry order
    assert adapters["google"].calls == []
    assert adapters["anthropic"].calls[0].api_key == "sk-ant-deployment-1234"
    assert adapters["openai"].calls[0].api_key == "sk-user-openai-123456"


async def test_the_deployment_key_never_goes_to_a_users_base_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    openai = StandIn("openai")
    threads = Threads(openai=user_creds("openai", base_url="http://evil.example/v1"))
    settings = deployment(monkeypatch, OPENAI_API_KEY="sk-deployment-secret-1234")
    view = await build({"openai": openai}, threads, settings).list_models(meta())
    assert all(c.api_key != "sk-deployment-secret-1234" for c in openai.calls)
    assert "openai" not in {m.provider for m in view.models}


async def test_keyless_ollama_is_listed_only_when_set_up(monkeypatch: pytest.MonkeyPatch) -> None:
    ollama = StandIn("ollama")
    await build({"ollama": ollama}, Threads()).list_models(meta())
    assert ollama.calls == []  # never probed at its default address for everyone
    settings = deployment(monkeypatch, WORKER_OLLAMA_BASE_URL="http://gpu-box:11434/v1")
    view = await build({"ollama": ollama}, Threads(), settings).list_models(meta())
    assert {m.provider for m in view.models} == {"ollama", "echo"}


async def test_a_hanging_provider_costs_at_most_the_deadline() -> None:
    adapters = {
        "openai": StandIn("openai", delay=30),
        "anthropic": StandIn("anthropic"),
    }
    threads = Threads(
        openai=user_creds("openai", "sk-a-123456789"),
        anthropic=user_creds("anthropic", "sk-b-123456789"),
    )
    catalogue = build(adapters, threads, deadline=0.3)
    started = time.perf_counter()
    view = await catalogue.list_models(meta())
    elapsed = time.perf_counter() - started
    print(f"\ncatalogue with one provider hanging (deadline 0.3 s): {elapsed * 1000:.0f} ms")
    assert [e.provider for e in view.errors] == ["openai"]
    assert "No answer within 0.3 s" in view.errors[0].detail
    assert {m.provider for m in view.models} == {"anthropic", "echo"}


async def test_the_askers_deadline_shortens_the_catalogues() -> None:
    """The gateway sends its share of its request timeout; a provider slower than that is
    named in `errors` and the others are listed; the cut-short fetch still fills the cache."""
    adapters = {
        "openai": StandIn("openai", delay=0.5),
        "anthropic": StandIn("anthropic"),
    }
    threads = Threads(
        openai=user_creds("openai", "sk-a-123456789"),
        anthropic=user_creds("anthropic", "sk-b-123456789"),
    )
    catalogue = build(adapters, threads, deadline=30)
    m = meta()
    view = await catalogue.list_models(m, deadline=0.2)
    assert [(e.provider, e.detail) for e in view.errors] == [("openai", "No answer within 0.2 s")]
    assert {m.provider for m in view.models} == {"anthropic", "echo"}
    await asyncio.sleep(0.6)
    later = await catalogue.list_models(m, deadline=0.2)
    assert later.errors == [] and {m.provider for m in later.models} == {
        "openai",
        "anthropic",
        "echo",
    }
    assert len(adapters["openai"].calls) == 1
    # A deadline longer than the catalogue's own changes nothing.
    short = build(adapters, threads, deadline=0.2)
    slow = await short.list_models(meta(), deadline=60)
    assert [(e.provider, e.detail) for e in slow.errors] == [("openai", "No answer within 0.2 s")]


def test_the_gateways_share_leaves_room_below_its_timeout() -> None:
    for timeout in (0.2, 0.5, 1.0, 1.5, 3.0, 5.0, 30.0, 120.0):
        share = catalogue_deadline(timeout)
        assert timeout / 2 <= share < timeout
        assert share <= timeout - 0.5 or share == timeout / 2
    assert catalogue_deadline(5.0) >= Settings().models_deadline  # the defaults agree


async def test_error_details_never_carry_the_key() -> None:
    key = "sk-LEAK-0123456789abcdef"
    adapters = {
        "openai": StandIn("openai", error=ProviderError("provider_auth_failed", f"bad key {key}")),
        "deepseek": StandIn("deepseek", error=RuntimeError(f"boom with {key}")),
    }
    threads = Threads(openai=user_creds("openai", key), deepseek=user_creds("deepseek", key))
    view = await build(adapters, threads).list_models(meta())
    details = {e.provider: e.detail for e in view.errors}
    assert details["openai"] == "bad key [redacted]"
    assert details["deepseek"] == "Unexpected error listing models (RuntimeError)"
    assert key not in view.model_dump_json()


async def test_answers_are_cached_per_user_and_credentials() -> None:
    openai = StandIn("openai")
    threads = Threads(openai=user_creds("openai", "sk-first-123456"))
    clock = Clock()
    catalogue = build({"openai": openai}, threads, ttl=60, clock=clock)
    alice, bob = meta(), meta()
    await catalogue.list_models(alice)
    await catalogue.list_models(alice)
    assert len(openai.calls) == 1
    await catalogue.list_models(bob)  # another user: their own entry
    assert len(openai.calls) == 2
    threads.configured["openai"] = user_creds("openai", "sk-second-123456")
    await catalogue.list_models(alice)  # a new key: fetched again at once
    assert len(openai.calls) == 3
    clock.now += 61
    await catalogue.list_models(alice)
    assert len(openai.calls) == 4


async def test_failures_are_cached_for_a_shorter_time() -> None:
    openai = StandIn("openai", error=ProviderError("provider_unavailable", "down"))
    threads = Threads(openai=user_creds("openai", "sk-x-123456789"))
    clock = Clock()
    catalogue = build({"openai": openai}, threads, ttl=60, error_ttl=5, clock=clock)
    m = meta()
    assert (await catalogue.list_models(m)).errors[0].detail == "down"
    await catalogue.list_models(m)
    assert len(openai.calls) == 1
    clock.now += 6
    openai.error = None
    view = await catalogue.list_models(m)
    assert len(openai.calls) == 2 and view.errors == []


async def test_concurrent_calls_share_one_fetch() -> None:
    openai = StandIn("openai", delay=0.1)
    threads = Threads(openai=user_creds("openai", "sk-x-123456789"))
    catalogue = build({"openai": openai}, threads)
    m = meta()
    views = await asyncio.gather(*(catalogue.list_models(m) for _ in range(5)))
    assert len(openai.calls) == 1
    assert all(len(v.models) == len(views[0].models) for v in views)


async def test_a_failing_settings_lookup_is_named_not_fatal() -> None:
    threads = Threads(openai=user_creds("openai", "sk-x-123456789"))
    threads.fail = True
    view = await build({"openai": StandIn("openai")}, threads).list_models(meta())
    assert {m.provider for m in view.models} == {"echo"}
    assert {e.provider for e in view.errors} == {
        "anthropic",
        "google",
        "openai",
        "deepseek",
        "openrouter",
        "ollama",
    }
    assert all("settings" in e.detail for e in view.errors)
