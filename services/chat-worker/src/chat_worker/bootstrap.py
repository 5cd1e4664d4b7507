"""Composition root of the chat worker: the only place that picks concrete parts."""

from __future__ import annotations

from chat_worker.config import Settings
from chat_worker.providers.options import ClientOptions
from chat_worker.providers.registry import ProviderRegistry
from chat_worker.worker import Worker


def build_worker(settings: Settings) -> Worker:
    options = ClientOptions(
        connect_timeout=settings.provider_connect_timeout,
        read_timeout=settings.provider_read_timeout,
    )
    registry = ProviderRegistry(options)
    registry.warm()
    return Worker(settings=settings, registry=registry)
