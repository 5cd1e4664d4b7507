"""What every SDK client is built with, and a small cache of clients.

Building an SDK client creates an HTTP connection pool; reusing one per (base URL, key) keeps
connections warm across answers. Keys live only in this process's memory.

The openai and anthropic clients are built on their SDK's documented aiohttp transport
(`DefaultAioHttpClient`), and google-genai uses aiohttp by itself when it is installed: it
costs less CPU per streamed answer than the default httpx2 transport, and less time before
the first token.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import httpx
import httpx2

T = TypeVar("T")


@dataclass(frozen=True)
class ClientOptions:
    connect_timeout: float = 10.0
    read_timeout: float = 120.0

    def httpx_timeout(self) -> httpx.Timeout:
        return httpx.Timeout(
            connect=self.connect_timeout,
            read=self.read_timeout,
            write=self.read_timeout,
            pool=self.connect_timeout,
        )

    def httpx2_timeout(self) -> httpx2.Timeout:
        """The openai and anthropic SDKs run on httpx2 (a fork of httpx)."""
        return httpx2.Timeout(
            connect=self.connect_timeout,
            read=self.read_timeout,
            write=self.read_timeout,
            pool=self.connect_timeout,
        )


@dataclass
class _Entry(Generic[T]):
    client: T
    users: int = 0
    retired: bool = False


class ClientCache(Generic[T]):
    """At most `size` clients, least recently used dropped first. Keyed by a hash of the key,
    so the key itself is not kept twice.

    Clients are leased: one dropped from the cache while a stream still reads through it is
    closed when that stream ends, and `aclose` closes the rest at shutdown (an aiohttp
    session left open is reported as a leak when it is collected)."""

    def __init__(
        self,
        factory: Callable[[str | None, str | None], T],
        close: Callable[[T], Awaitable[None]],
        size: int = 32,
    ) -> None:
        self._factory = factory
        self._close = close
        self._size = size
        self._entries: OrderedDict[tuple[str | None, str], _Entry[T]] = OrderedDict()

    @contextlib.asynccontextmanager
    async def lease(self, base_url: str | None, api_key: str | None) -> AsyncIterator[T]:
        ident = (base_url, hashlib.sha256((api_key or "").encode()).hexdigest())
        entry = self._entries.get(ident)
        if entry is None:
            entry = self._entries[ident] = _Entry(self._factory(base_url, api_key))
            while len(self._entries) > self._size:
                _, dropped = self._entries.popitem(last=False)
                dropped.retired = True
                if dropped.users == 0:
                    await self._close_quietly(dropped.client)
        else:
            self._entries.move_to_end(ident)
        entry.users += 1
        try:
            yield entry.client
        finally:
            entry.users -= 1
            if entry.retired and entry.users == 0:
                await self._close_quietly(entry.client)

    def __len__(self) -> int:
        return len(self._entries)

    async def aclose(self) -> None:
        entries = list(self._entries.values())
        self._entries.clear()
        for entry in entries:
            entry.retired = True
            await self._close_quietly(entry.client)

    async def _close_quietly(self, client: T) -> None:
        with contextlib.suppress(Exception):
            await self._close(client)
