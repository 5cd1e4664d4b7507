"""The SDK client cache: one client per (base URL, key), the least recently used dropped first,
and every client closed exactly once: a dropped one when its last stream ends, the rest at
shutdown."""

from __future__ import annotations

from chat_worker.providers.options import ClientCache


class FakeClient:
    def __init__(self, base_url: str | None, key: str | None) -> None:
        self.ident = (base_url, key)
        self.closed = 0


async def _close(client: FakeClient) -> None:
    client.closed += 1


def _cache(size: int = 2) -> ClientCache[FakeClient]:
    return ClientCache(FakeClient, _close, size=size)


async def test_one_client_per_url_and_key() -> None:
    cache = _cache()
    async with cache.lease("http://a", "k1") as first:
        pass
    async with cache.lease("http://a", "k1") as again:
        assert again is first
    async with cache.lease("http://a", "k2") as other:
        assert other is not first
    assert len(cache) == 2


async def test_a_dropped_idle_client_is_closed_at_once() -> None:
    cache = _cache(size=1)
    async with cache.lease("http://a", "k") as old:
        pass
    async with cache.lease("http://b", "k"):
        assert old.closed == 1
    assert len(cache) == 1


async def test_a_dropped_client_in_use_is_closed_when_its_stream_ends() -> None:
    cache = _cache(size=1)
    async with cache.lease("http://a", "k") as busy:
        async with cache.lease("http://b", "k"):
            pass
        assert busy.closed == 0  # still streaming through it
    assert busy.closed == 1


async def test_aclose_closes_every_client_once() -> None:
    cache = _cache(size=4)
    clients = []
    for url in ("http://a", "http://b", "http://c"):
        async with cache.lease(url, "k") as client:
            clients.append(client)
    await cache.aclose()
    assert [c.closed for c in clients] == [1, 1, 1]
    assert len(cache) == 0
