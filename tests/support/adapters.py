"""Provider adapters built by a test, closed when it ends (their SDK clients hold aiohttp
sessions, reported as leaks if collected open). `tests/integration/conftest.py` closes them."""

from __future__ import annotations

from typing import TypeVar

from chat_worker.providers.base import ProviderAdapter

A = TypeVar("A", bound=ProviderAdapter)
OPEN: list[ProviderAdapter] = []


def closing(adapter: A) -> A:
    OPEN.append(adapter)
    return adapter


async def close_all() -> None:
    while OPEN:
        await OPEN.pop().aclose()
