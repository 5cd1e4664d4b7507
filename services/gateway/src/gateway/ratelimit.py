"""Per-user limits: a bucket of request credits (refilled at a steady rate) for writes, one for
chats, and a cap on the streams a user has open at once. Over a limit → 429 with `Retry-After`.

They hold once per deployment, in the NATS KV bucket every gateway shares
(`gateway/shared_limits.py`). The classes here are this gateway's own copy of each limit:
what applies while the shared store cannot answer (NATS away, the bucket broken), so
requests are limited per gateway then rather than refused. The local stream count is kept
always: it is what this gateway writes into the shared store.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import re
import time
from dataclasses import dataclass
from uuid import UUID

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.asgi import HttpMiddleware, header
from gateway.config import Settings
from gateway.limits_kv import Unavailable
from gateway.security import AccessTokens
from gateway.shared_limits import SharedBuckets, SharedLimits
from gateway.v1_wire import error_response

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Every request that asks a provider for an answer counts as a chat and holds a stream slot.
CHAT_PATH = re.compile(
    r"/api/threads/[^/]+/(chat|messages/[^/]+/(regenerate|edit))/?|/v1/chat/completions/?"
)
STREAM_PATH = re.compile(r"/api/threads/[^/]+/messages/[^/]+/stream/?")


def too_many(detail: str, retry_after: float) -> HTTPException:
    seconds = max(1, math.ceil(retry_after))
    return HTTPException(429, detail, headers={"Retry-After": str(seconds)})


@dataclass
class _Bucket:
    credits: float
    at: float


class RateBuckets:
    """`rate` credits per second up to `burst`, one bucket per key. Full buckets are forgotten
    (a full bucket is the same as none), so memory follows active users, not all users."""

    def __init__(self, per_minute: int, burst: int) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(max(burst, 1))
        self.enabled = per_minute > 0
        self._buckets: dict[UUID, _Bucket] = {}
        self._next_sweep = 0.0

    def take(self, key: UUID, now: float | None = None) -> float | None:
        """Spend one credit: None when allowed, else the seconds until one is there."""
        if not self.enabled:
            return None
        now = time.monotonic() if now is None else now
        self._sweep(now)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(self.burst, now)
        bucket.credits = min(self.burst, bucket.credits + (now - bucket.at) * self.rate)
        bucket.at = now
        if bucket.credits >= 1.0:
            bucket.credits -= 1.0
            return None
        return (1.0 - bucket.credits) / self.rate

    def _sweep(self, now: float) -> None:
        if now < self._next_sweep:
            return
        self._next_sweep = now + 60.0
        full = [
            k
            for k, b in self._buckets.items()
            if b.credits + (now - b.at) * self.rate >= self.burst
        ]
        for key in full:
            del self._buckets[key]

    def __len__(self) -> int:
        return len(self._buckets)


class StreamSlots:
    """How many answer streams each user has open; `acquire` refuses past `limit`."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: dict[UUID, int] = {}

    def count(self, user_id: UUID) -> int:
        return self._open.get(user_id, 0)

    def users(self) -> list[UUID]:
        return list(self._open)

    def acquire(self, user_id: UUID) -> Slot:
        if self.limit > 0 and self.count(user_id) >= self.limit:
            raise too_many(f"At most {self.limit} streams open at once", 1)
        self._open[user_id] = self.count(user_id) + 1
        return Slot(self, user_id)

    def _release(self, user_id: UUID) -> None:
        left = self.count(user_id) - 1
        if left > 0:
            self._open[user_id] = left
        else:
            self._open.pop(user_id, None)


class Slot:
    """One open stream; `release` is idempotent, so every exit path may call it."""

    def __init__(self, slots: StreamSlots, user_id: UUID) -> None:
        self._slots = slots
        self._user_id = user_id
        self._held = True

    def release(self) -> None:
        if self._held:
            self._held = False
            self._slots._release(self._user_id)


class UserLimits(HttpMiddleware):
    """Charges each authenticated write or chat to its user's bucket and holds a stream slot
    for as long as an answer stream is being sent (the whole response, however it ends).
    Requests without a valid access token pass untouched: the routes answer 401. It runs
    before routing, so a refused request has reached nothing and stored nothing."""

    def __init__(
        self,
        app: ASGIApp,
        settings: Settings,
        access_tokens: AccessTokens,
        shared: SharedLimits,
        streams: StreamSlots,
    ) -> None:
        super().__init__(app)
        self.access_tokens = access_tokens
        self.writes = RateBuckets(
            settings.rate_limit_writes_per_minute, settings.rate_limit_writes_burst
        )
        self.chats = RateBuckets(
            settings.rate_limit_chats_per_minute, settings.rate_limit_chats_burst
        )
        self.streams = streams
        self.shared = shared

    def _user(self, scope: Scope) -> UUID | None:
        value = header(scope, b"authorization")
        if value is None:
            return None
        scheme, _, credential = value.decode("latin-1").partition(" ")
        if scheme.lower() == "bearer" and credential.strip():
            return self.access_tokens.verify(credential.strip())
        return None

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        method, path = scope["method"], scope["path"]
        chat = method == "POST" and CHAT_PATH.fullmatch(path) is not None
        stream = chat or (method == "GET" and STREAM_PATH.fullmatch(path) is not None)
        if method not in WRITE_METHODS and not stream:
            await self.app(scope, receive, send)
            return
        user_id = self._user(scope)
        if user_id is None:
            await self.app(scope, receive, send)
            return
        try:
            if method in WRITE_METHODS:
                wait = await self._take(chat, user_id)
                if wait is not None:
                    raise too_many(f"Too many {'chats' if chat else 'writes'}; retry later", wait)
            slot = await self._acquire(user_id) if stream else None
        except HTTPException as exc:  # in the shape the path's clients parse (OpenAI's on /v1)
            response = error_response(path, exc.status_code, exc.detail, exc.headers)
            await response(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            if slot is not None:
                slot.release()
                await asyncio.shield(self._shared_count(user_id))

    async def _take(self, chat: bool, user_id: UUID) -> float | None:
        local = self.chats if chat else self.writes
        if not local.enabled:
            return None
        if self.shared.enabled:
            shared: SharedBuckets = self.shared.chats if chat else self.shared.writes
            with contextlib.suppress(Unavailable):
                return await shared.take(user_id)
        return local.take(user_id)

    async def _acquire(self, user_id: UUID) -> Slot:
        slot = self.streams.acquire(user_id)  # this gateway's cap: the only one without NATS
        if not self.shared.enabled or self.streams.limit == 0:
            return slot
        try:
            admitted = await self.shared.streams.admit(user_id)
        except Unavailable:
            return slot
        if not admitted:
            slot.release()
            raise too_many(f"At most {self.streams.limit} streams open at once", 1)
        return slot

    async def _shared_count(self, user_id: UUID) -> None:
        """A stream ended: say so in the shared store (if it is away, the heartbeat will)."""
        if self.shared.enabled and self.streams.limit > 0:
            with contextlib.suppress(Unavailable):
                await self.shared.streams.record(user_id)
