"""What every SDK client is built with, and a small cache of clients.

Building an SDK client creates an HTTP connection pool; reusing one per (base URL, key) keeps
connections warm across answers. Keys live only in this process's memory.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable
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


class ClientCache(Generic[T]):
    """At most `size` clients, least recently used dropped first. Keyed by a hash of the key,
    so the key itself is not kept twice."""

    def __init__(self, factory: Callable[[str | None, str | None], T], size: int = 32) -> None:
        self._factory = factory
        self._size = size
        self._clients: OrderedDict[tuple[str | None, str], T] = OrderedDict()

    def get(self, base_url: str | None, api_key: str | None) -> T:
        ident = (base_url, hashlib.sha256((api_key or "").encode()).hexdigest())
        client = self._clients.get(ident)
        if client is None:
            client = self._factory(base_url, api_key)
            self._clients[ident] = client
            while len(self._clients) > self._size:
                self._clients.popitem(last=False)
        else:
            self._clients.move_to_end(ident)
        return client
