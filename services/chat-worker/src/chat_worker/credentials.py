"""Which key and base URL an answer uses: the user's provider config, else the deployment's.

The deployment's key is only ever sent to the deployment's base URL (its override or the
provider's default): a user who sets their own base URL without a key of their own gets no key,
so nobody can point a thread at their own server and collect the deployment's key.
"""

from __future__ import annotations

from chat_worker.config import Settings
from chat_worker.providers.base import ProviderCredentials, ProviderError
from chat_worker.threads_client import Refused, ThreadsClient, ThreadsUnavailable
from contracts.base import Envelope
from contracts.providers import PROVIDERS
from contracts.queries import GetProviderCredentials
from contracts.views import ProviderCredentialsView


class CredentialResolver:
    def __init__(self, settings: Settings, threads: ThreadsClient) -> None:
        self.settings = settings
        self.threads = threads

    def deployment(self, provider: str) -> ProviderCredentials:
        """The environment's key and base URL alone."""
        info = PROVIDERS[provider]
        return ProviderCredentials(
            provider=provider,
            api_key=self.settings.env_key(provider),
            base_url=self.settings.base_url_override(provider) or info.default_base_url,
        )

    @staticmethod
    def needs_lookup(provider: str) -> bool:
        """Whether the user's own config matters (not for echo, nor an unknown name)."""
        return provider in PROVIDERS and provider != "echo"

    async def own(self, meta: Envelope, provider: str) -> ProviderCredentialsView | None:
        """The user's own config for `provider`; None when there is none, or nobody answers
        the query (the deployment's environment applies then)."""
        try:
            return await self.threads.call(GetProviderCredentials(meta=meta, provider=provider))
        except (ThreadsUnavailable, Refused):
            return None

    async def resolve(self, meta: Envelope, provider: str) -> ProviderCredentials:
        """Asks the threads service for the user's own config, then `combine`s."""
        own = await self.own(meta, provider) if self.needs_lookup(provider) else None
        return self.combine(provider, own)

    def combine(self, provider: str, own: ProviderCredentialsView | None) -> ProviderCredentials:
        """The user's own config (None: none saved) over the deployment's; raises
        ProviderError when the provider cannot be used."""
        info = PROVIDERS.get(provider)
        if info is None:
            raise ProviderError("provider_error", f"Unknown provider {provider!r}")
        if provider == "echo":
            return ProviderCredentials(provider="echo")
        if own is not None and own.configured and not own.enabled:
            raise ProviderError(
                "provider_not_configured", f"{info.display_name} is disabled in your settings"
            )
        creds = self.deployment(provider)
        if own is not None and own.configured and (own.api_key or own.base_url):
            if own.api_key:
                creds = ProviderCredentials(
                    provider, api_key=own.api_key, base_url=own.base_url or creds.base_url
                )
            else:  # the user's own server without a key of theirs: never send ours there
                creds = ProviderCredentials(provider, api_key=None, base_url=own.base_url)
        if info.needs_key and not creds.api_key:
            raise ProviderError(
                "provider_not_configured",
                f"{info.display_name} is not configured: add an API key in the provider settings",
            )
        return creds
