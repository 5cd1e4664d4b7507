"""Provider name → adapter, for every provider of `contracts.providers.PROVIDERS`.

Which adapter speaks to a provider is the registry's `sdk` field: the openai SDK serves
openai, deepseek, openrouter and ollama, each with its own base URL. Adapters are built on
first use, so a worker that only ever answers with `echo` never imports the (slow to import)
provider SDKs unless `warm()` is called (the worker does, at start: importing them takes
seconds, which must not land on the first answer or model listing).
"""

from __future__ import annotations

from chat_worker.providers.base import ProviderAdapter, ProviderError
from chat_worker.providers.echo import EchoAdapter
from chat_worker.providers.options import ClientOptions
from contracts.providers import PROVIDERS


def build_adapter(provider: str, options: ClientOptions) -> ProviderAdapter:
    info = PROVIDERS[provider]
    if info.sdk == "anthropic":
        from chat_worker.providers.anthropic import AnthropicAdapter

        return AnthropicAdapter(options)
    if info.sdk == "google":
        from chat_worker.providers.google import GoogleAdapter

        return GoogleAdapter(options)
    if info.sdk == "openai":
        from chat_worker.providers.chat_completions import ChatCompletionsAdapter

        return ChatCompletionsAdapter(provider, options)
    return EchoAdapter()


class ProviderRegistry:
    def __init__(self, options: ClientOptions) -> None:
        self._options = options
        self._adapters: dict[str, ProviderAdapter] = {}

    def get(self, provider: str) -> ProviderAdapter:
        adapter = self._adapters.get(provider)
        if adapter is None:
            if provider not in PROVIDERS:
                raise ProviderError("provider_error", f"Unknown provider {provider!r}")
            adapter = self._adapters[provider] = build_adapter(provider, self._options)
        return adapter

    def warm(self) -> None:
        """Build every adapter now."""
        for provider in PROVIDERS:
            self.get(provider)

    async def aclose(self) -> None:
        """At shutdown: close every adapter's SDK clients."""
        for adapter in self._adapters.values():
            await adapter.aclose()

    def names(self) -> list[str]:
        return sorted(PROVIDERS)
