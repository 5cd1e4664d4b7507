"""The model catalogue: the union of the models of every provider a user can use.

Every provider is asked in parallel, each under one deadline for the whole call, so a provider
that hangs costs at most the deadline and is named in `errors`, never failing the call. The
deadline is the worker's own, shortened to the asker's when the query brings one (the gateway
sends a share of its request timeout, so the answer always arrives before it gives up). Answers
are cached per (user, provider) and bound to the credentials they were fetched with (a changed
key or base URL refetches at once); failures are cached for a shorter time. Concurrent calls
share one fetch per (user, provider). Error details never contain a key.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

import structlog

from chat_worker.providers.base import (
    ModelInfo,
    ProviderAdapter,
    ProviderCredentials,
    ProviderError,
)
from contracts.base import Envelope
from contracts.providers import ECHO_MODELS, PROVIDERS, known_context_window
from contracts.views import ModelErrorView, ModelsView, ModelView, ProviderCredentialsView

log = structlog.get_logger(__name__)

# The worker's credential resolver (chat_worker.credentials): raises ProviderError
# `provider_not_configured` when the user cannot use the provider.
Resolve = Callable[[Envelope, str], Awaitable[ProviderCredentials]]
# The user's saved settings for one provider, None if none (ThreadsClient.provider_credentials).
OwnSettings = Callable[[Envelope, str], Awaitable[ProviderCredentialsView | None]]
AdapterLookup = Callable[[str], ProviderAdapter | None]
MAX_DETAIL = 300


class DeploymentDefaults(Protocol):
    """What the deployment provides for a provider (the worker's settings)."""

    def base_url_override(self, provider: str) -> str | None: ...


class SettingsUnavailable(Exception):
    """The user's settings for a provider could not be read (threads service down, or a stored
    key that no longer decrypts)."""


@dataclass(frozen=True)
class Outcome:
    provider: str
    models: tuple[ModelInfo, ...] = ()
    error: str | None = None


@dataclass
class _Entry:
    fingerprint: str
    expires_at: float
    outcome: Outcome


def scrub(detail: str, secret: str | None) -> str:
    """Defence in depth: adapters promise key-free messages; we make sure of it."""
    if secret and len(secret) >= 4:
        detail = detail.replace(secret, "[redacted]")
    return detail[:MAX_DETAIL]


def fingerprint(creds: ProviderCredentials) -> str:
    """Identifies the credentials a cached answer was fetched with; kept in memory only."""
    raw = f"{creds.api_key or ''}\x00{creds.base_url or ''}".encode()
    return hashlib.sha256(raw).hexdigest()


class Catalogue:
    def __init__(
        self,
        adapter_for: AdapterLookup,
        resolve: Resolve,
        own_settings: OwnSettings,
        defaults: DeploymentDefaults,
        *,
        deadline: float = 2.0,
        ttl: float = 60.0,
        error_ttl: float = 10.0,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.adapter_for = adapter_for
        self.resolve = resolve
        self.own_settings = own_settings
        self.defaults = defaults
        self.deadline = deadline
        self.ttl = ttl
        self.error_ttl = error_ttl
        self.max_entries = max_entries
        self.clock = clock
        self._cache: dict[tuple[UUID, str], _Entry] = {}
        self._inflight: dict[tuple[UUID, str, str], asyncio.Task[Outcome]] = {}

    async def list_models(self, meta: Envelope, deadline: float | None = None) -> ModelsView:
        """Never waits much past `deadline` (at most the catalogue's own), whatever the
        providers do. A fetch cut short keeps going for the cache, under its own deadline."""
        assert meta.user_id is not None
        wait = min(self.deadline, deadline) if deadline else self.deadline
        tasks = {
            name: asyncio.create_task(self._one(meta, name), name=f"models-{name}")
            for name in PROVIDERS
        }
        _, pending = await asyncio.wait(tasks.values(), timeout=wait)
        for task in pending:
            task.cancel()  # the shared fetch behind it ends under its own deadline
        models: list[ModelView] = []
        errors: list[ModelErrorView] = []
        for name, task in tasks.items():
            if task in pending:
                outcome: Outcome | None = Outcome(name, error=self._timeout_detail(wait))
            elif task.exception() is not None:
                exc = task.exception()
                outcome = Outcome(name, error=f"Unexpected error ({type(exc).__name__})")
            else:
                outcome = task.result()
            if outcome is None:
                continue
            if outcome.error is not None:
                errors.append(ModelErrorView(provider=name, detail=outcome.error))
                continue
            seen: set[str] = set()
            for m in outcome.models:
                if m.id not in seen:
                    seen.add(m.id)
                    window = m.context_window or known_context_window(m.id)
                    models.append(
                        ModelView(
                            provider=name,
                            id=m.id,
                            display_name=m.display_name,
                            context_window=window,
                        )
                    )
        return ModelsView(models=models, errors=errors)

    async def warm_up(self) -> None:
        """Runs each adapter's listing path once against a closed local port. The SDKs import
        most of their modules on first use, synchronously; done during a real call, that
        stalls the whole event loop for seconds (every deadline with it). Never reaches a
        provider: nothing listens on the port."""
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
        started = self.clock()
        seen: set[int] = set()
        for name in PROVIDERS:
            try:
                adapter = self.adapter_for(name)
            except ProviderError:
                adapter = None
            if adapter is None or id(adapter) in seen:
                continue
            seen.add(id(adapter))
            with contextlib.suppress(Exception):
                async with asyncio.timeout(30):
                    await adapter.list_models(ProviderCredentials(name, "warm-up", closed))
        log.info("model catalogue warmed up", seconds=round(self.clock() - started, 3))

    def _timeout_detail(self, seconds: float | None = None) -> str:
        return f"No answer within {seconds or self.deadline:.3g} s"

    async def _one(self, meta: Envelope, provider: str) -> Outcome | None:
        """None when the user cannot use this provider (not an error)."""
        try:
            creds = await self._resolve(meta, provider)
        except SettingsUnavailable as exc:
            return Outcome(provider, error=str(exc))
        if creds is None:
            return None
        assert meta.user_id is not None
        fp = fingerprint(creds)
        entry = self._cache.get((meta.user_id, provider))
        if entry is not None and entry.fingerprint == fp and entry.expires_at > self.clock():
            return entry.outcome
        key = (meta.user_id, provider, fp)
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.create_task(self._fetch(meta.user_id, provider, creds, fp))
            self._inflight[key] = task
            task.add_done_callback(lambda _: self._inflight.pop(key, None))
        # Shielded: a caller giving up must not cancel a fetch other callers share.
        return await asyncio.shield(task)

    async def _resolve(self, meta: Envelope, provider: str) -> ProviderCredentials | None:
        """The credentials a chat would use (the worker's one resolver: the user's settings,
        else the deployment's); None if the provider is not set up for this user or switched
        off. A keyless provider (Ollama) is listed only when the user saved a config for it or
        the deployment names its base URL, never probed at its default address for everyone."""
        try:
            creds = await self.resolve(meta.caused(), provider)
        except ProviderError as exc:
            if exc.code == "provider_not_configured":
                return None
            raise SettingsUnavailable(scrub(exc.message, None)) from None
        except Exception as exc:
            log.warning(
                "provider settings unavailable", provider=provider, error=type(exc).__name__
            )
            raise SettingsUnavailable("Could not read your settings for this provider") from None
        keyless = provider != "echo" and not PROVIDERS[provider].needs_key
        if keyless and self.defaults.base_url_override(provider) is None:
            own = await self.own_settings(meta.caused(), provider)
            if own is None or not own.configured:
                return None
        return creds

    async def _fetch(
        self, user_id: UUID, provider: str, creds: ProviderCredentials, fp: str
    ) -> Outcome:
        started = self.clock()
        try:
            async with asyncio.timeout(self.deadline):
                listed = await self._list(provider, creds)
            outcome = Outcome(provider, models=tuple(listed))
        except TimeoutError:
            outcome = Outcome(provider, error=self._timeout_detail())
        except ProviderError as exc:
            outcome = Outcome(provider, error=scrub(exc.message, creds.api_key))
        except Exception as exc:  # an adapter bug: name it, never print it (it may hold a key)
            outcome = Outcome(
                provider, error=f"Unexpected error listing models ({type(exc).__name__})"
            )
        if outcome.error is not None:
            log.info(
                "model listing failed",
                provider=provider,
                reason=outcome.error,
                seconds=round(self.clock() - started, 3),
            )
        self._remember(user_id, provider, fp, outcome)
        return outcome

    async def _list(self, provider: str, creds: ProviderCredentials) -> list[ModelInfo]:
        adapter = self.adapter_for(provider)
        if adapter is None:
            if provider == "echo":
                return [ModelInfo(m, m) for m in ECHO_MODELS]
            raise ProviderError("provider_error", "No adapter for this provider")
        return await adapter.list_models(creds)

    def _remember(self, user_id: UUID, provider: str, fp: str, outcome: Outcome) -> None:
        ttl = self.error_ttl if outcome.error is not None else self.ttl
        if ttl <= 0:
            return
        now = self.clock()
        key = (user_id, provider)
        self._cache.pop(key, None)  # re-inserted last: the dict stays oldest-first
        self._cache[key] = _Entry(fp, now + ttl, outcome)
        if len(self._cache) > self.max_entries:
            for k in [k for k, e in self._cache.items() if e.expires_at <= now]:
                del self._cache[k]
            while len(self._cache) > self.max_entries:
                del self._cache[next(iter(self._cache))]
