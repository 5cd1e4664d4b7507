"""The worker's parts, shared by its NATS handlers: settings, adapters, the threads client,
JetStream, and the answers in flight. Built by `bootstrap.build_worker`; the NATS connection is
attached once the broker has connected."""

from __future__ import annotations

from dataclasses import dataclass, field

from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from chat_worker.config import Settings
from chat_worker.credentials import CredentialResolver
from chat_worker.inflight import InFlight
from chat_worker.providers.registry import ProviderRegistry
from chat_worker.threads_client import ThreadsClient


@dataclass
class Worker:
    settings: Settings
    registry: ProviderRegistry
    inflight: InFlight = field(default_factory=InFlight)
    _nc: NATS | None = None
    _js: JetStreamContext | None = None
    _threads: ThreadsClient | None = None
    _credentials: CredentialResolver | None = None

    def attach(self, nc: NATS) -> None:
        self._nc = nc
        self._js = nc.jetstream(timeout=self.settings.request_timeout)
        self._threads = ThreadsClient(nc, self.settings.request_timeout)
        self._credentials = CredentialResolver(self.settings, self._threads)

    @property
    def js(self) -> JetStreamContext:
        assert self._js is not None, "worker not attached to NATS yet"
        return self._js

    @property
    def threads(self) -> ThreadsClient:
        assert self._threads is not None, "worker not attached to NATS yet"
        return self._threads

    @property
    def credentials(self) -> CredentialResolver:
        assert self._credentials is not None, "worker not attached to NATS yet"
        return self._credentials
