"""Per-user limits held once per deployment, in the `LimitsStore` every gateway shares.

Rate limits: one token bucket per user and kind in the store (`credits at`, wall-clock
seconds). A gateway does not ask the store for every request: it leases up to
`limits_lease` credits at a time (taken from the shared bucket, so never more than it holds)
and spends them locally, so only one request in `limits_lease` pays a round trip. Credits
leased and not spent within `limits_lease_seconds` go back to the shared bucket with the
gateway's next lease for that user (same write). The shared bucket is exact: a burst spread
over N gateways is cut at the limit, never later. What a lease costs is that up to
`limits_lease - 1` of a user's credits may sit unspent on each other gateway for up to
`limits_lease_seconds`: a burst may be cut up to N x (lease - 1) requests early.

Streams: one key per user holding each gateway's open streams, `{gateway: [count, until]}`.
A gateway writes its own entry (its local count) when a stream starts or ends, and again
every `stream_heartbeat_seconds` while it has any; an entry whose `until` has passed (its
gateway died, three heartbeats ago) no longer counts, and is dropped at the next write.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING
from uuid import UUID, uuid4

import orjson

from gateway.config import Settings
from gateway.limits_kv import LimitsStore, Unavailable

if TYPE_CHECKING:
    from nats.aio.client import Client as NATS

    from gateway.ratelimit import StreamSlots


@dataclass
class _Lease:
    credits: int
    until: float  # monotonic


class SharedBuckets:
    """`rate` credits per second up to `burst` per user, shared by every gateway."""

    def __init__(
        self, store: LimitsStore, kind: str, per_minute: int, burst: int, lease: int, hold: float
    ) -> None:
        self.store = store
        self.kind = kind
        self.rate = per_minute / 60.0
        self.burst = float(max(burst, 1))
        self.lease = max(1, lease)
        self.hold = hold
        self._leases: dict[UUID, _Lease] = {}
        self._next_sweep = 0.0

    async def take(self, user_id: UUID) -> float | None:
        """Spend one credit: None when allowed, else the seconds until one is there. Raises
        `Unavailable` when the store cannot answer."""
        now = time.monotonic()
        self._sweep(now)
        lease = self._leases.get(user_id)
        if lease is not None and lease.credits > 0 and lease.until > now:
            lease.credits -= 1
            return None
        returned = 0  # an expired lease's credits: given back with this lease, once
        if lease is not None and lease.until <= now:
            returned, lease.credits = lease.credits, 0
        try:
            got, wait = await self._lease(user_id, returned)
        except Unavailable:
            if lease is not None:
                lease.credits += returned
            raise
        if got == 0:
            return wait
        lease = self._leases.get(user_id)  # another request of the user may have leased too
        if lease is not None and lease.until > now:
            lease.credits += got - 1
        else:
            self._leases[user_id] = _Lease(got - 1, now + self.hold)
        return None

    async def _lease(self, user_id: UUID, returned: int) -> tuple[int, float]:
        granted = (0, 0.0)

        def take_from(value: bytes | None) -> tuple[bytes, int] | None:
            nonlocal granted
            now = time.time()
            credits = self.burst
            if value:
                stored, at = (float(part) for part in value.split())
                refilled = stored + max(0.0, now - at) * self.rate + returned
                credits = min(self.burst, refilled)
            got = min(self.lease, math.floor(credits))
            if got == 0:
                granted = (0, (1.0 - credits) / self.rate)
                return None
            granted = (got, 0.0)
            left = credits - got
            # Gone once full again: a full bucket is the same as none.
            return f"{left:.6f} {now:.6f}".encode(), math.ceil((self.burst - left) / self.rate)

        await self.store.change(f"rate.{self.kind}.{user_id}", take_from)
        return granted

    def _sweep(self, now: float) -> None:
        if now < self._next_sweep:
            return
        self._next_sweep = now + 60.0
        for key in [k for k, lease in self._leases.items() if lease.until <= now]:
            del self._leases[key]


class SharedStreams:
    """Each user's open streams on every gateway; this gateway writes only its own entry, the
    count its local `StreamSlots` keep."""

    def __init__(self, store: LimitsStore, slots: StreamSlots, heartbeat: float) -> None:
        self.store = store
        self.slots = slots
        self.heartbeat = heartbeat
        self.gateway = uuid4().hex[:12]
        self._written: dict[UUID, int] = {}  # what this gateway's entries say

    async def admit(self, user_id: UUID) -> bool:
        """Record this gateway's streams of the user (the new one counted already) if the
        user's total stays within the limit; False, and nothing written, when it would not."""
        mine = self.slots.count(user_id)
        admitted = True

        def add(value: bytes | None) -> tuple[bytes, int] | None:
            nonlocal admitted
            entries = self._live(value)
            others = sum(
                count for gateway, (count, _) in entries.items() if gateway != self.gateway
            )
            admitted = others + mine <= self.slots.limit
            return self._with_mine(entries, mine) if admitted else None

        await self.store.change(self._key(user_id), add)
        if admitted:
            self._written[user_id] = mine
        return admitted

    async def record(self, user_id: UUID) -> None:
        """Write this gateway's count of the user's streams (one ended, or a heartbeat)."""
        mine = self.slots.count(user_id)
        await self.store.change(
            self._key(user_id), lambda value: self._with_mine(self._live(value), mine)
        )
        if mine > 0:
            self._written[user_id] = mine
        else:
            self._written.pop(user_id, None)

    async def beat(self) -> None:
        """Keep this gateway's entries alive while its streams are open, and correct any a
        lost write left behind."""
        for user_id in set(self._written) | set(self.slots.users()):
            await self.record(user_id)

    async def beating(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat)
            with contextlib.suppress(Unavailable):  # entries outlive three beats
                await self.beat()

    def _key(self, user_id: UUID) -> str:
        return f"streams.{user_id}"

    def _live(self, value: bytes | None) -> dict[str, tuple[int, float]]:
        now = time.time()
        entries: dict[str, list[float]] = orjson.loads(value) if value else {}
        return {g: (int(c), u) for g, (c, u) in entries.items() if u > now}

    def _with_mine(self, entries: dict[str, tuple[int, float]], mine: int) -> tuple[bytes, int]:
        ttl = 3 * self.heartbeat
        if mine > 0:
            entries[self.gateway] = (mine, time.time() + ttl)
        else:
            entries.pop(self.gateway, None)
        return orjson.dumps(entries), math.ceil(ttl)


class SharedLimits:
    """The limits the gateways share: writes, chats and the streams `slots` count here."""

    def __init__(self, settings: Settings, slots: StreamSlots) -> None:
        self.enabled = settings.shared_limits
        self.store = LimitsStore(settings)
        lease, hold = settings.limits_lease, settings.limits_lease_seconds
        self.writes = SharedBuckets(
            self.store,
            "writes",
            settings.rate_limit_writes_per_minute,
            settings.rate_limit_writes_burst,
            lease,
            hold,
        )
        self.chats = SharedBuckets(
            self.store,
            "chats",
            settings.rate_limit_chats_per_minute,
            settings.rate_limit_chats_burst,
            lease,
            hold,
        )
        self.streams = SharedStreams(self.store, slots, settings.stream_heartbeat_seconds)
        self._beating: asyncio.Task[None] | None = None

    def start(self, nc: NATS) -> None:
        if self.enabled:
            self.store.attach(nc)
            self._beating = asyncio.create_task(self.streams.beating())

    def stop(self) -> None:
        if self._beating is not None:
            self._beating.cancel()
