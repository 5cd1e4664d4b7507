"""Personal API keys on the gateway's side: minting one, its keyed hash, and the memory of
verified keys that lets a request skip the threads service.

A key is 256 random bits, so it cannot be guessed and a slow password hash would buy nothing
but cost every request: its stored form is HMAC-SHA256 under a secret only the gateways hold,
so a copy of the table alone cannot even be checked against a guess offline. The threads
service gets the hash, never the key; a cache miss asks it for the key of a hash.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID, uuid4

import structlog

from contracts.base import Envelope
from contracts.commands import TouchApiKey
from contracts.errors import ErrorCode
from contracts.queries import VerifyApiKey
from contracts.views import ApiKeyOwnerView
from gateway.bus import Bus, reply_of, unavailable

log = structlog.get_logger(__name__)
KEY_PREFIX = "sb-"
SHOWN_CHARS = 10  # the `prefix` a list shows: "sb-" and 7 characters of the key
TOUCH_EVERY = 60.0  # seconds between two reports of one key's use


def mint() -> tuple[str, str]:
    """A new key and the prefix shown for it."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    return key, key[:SHOWN_CHARS]


@dataclass(frozen=True, slots=True)
class KnownKey:
    key_id: UUID
    user_id: UUID
    expires: float  # epoch seconds; inf for a key that never expires


class KeyCache:
    """Verified keys by their hash, until deleted (every gateway hears ApiKeyDeleted) or
    expired. A deleted key's id is remembered, so a lookup answered just before the deletion
    cannot put it back."""

    MAX_REMEMBERED = 10_000

    def __init__(self, secret: bytes, clock: Callable[[], float] = time.time) -> None:
        self._secret = secret
        self._clock = clock
        self._by_hash: dict[str, KnownKey] = {}
        self._hash_of: dict[UUID, str] = {}
        self._deleted: set[UUID] = set()
        self._touched: dict[UUID, float] = {}
        self._tasks: set[asyncio.Task[object]] = set()

    def hash(self, key: str) -> str:
        return hmac.new(self._secret, key.encode(), hashlib.sha256).hexdigest()

    def cached(self, key: str) -> KnownKey | None:
        known = self._by_hash.get(self.hash(key))
        if known is None or known.key_id in self._deleted:
            return None
        if self._clock() >= known.expires:
            return None
        return known

    def remember(self, key_hash: str, owner: ApiKeyOwnerView) -> KnownKey | None:
        if owner.key_id in self._deleted:
            return None
        expires = owner.expires_at.timestamp() if owner.expires_at else float("inf")
        if len(self._by_hash) >= self.MAX_REMEMBERED:
            self.clear()
        known = KnownKey(owner.key_id, owner.user_id, expires)
        self._by_hash[key_hash] = known
        self._hash_of[owner.key_id] = key_hash
        return known

    def forget(self, key_id: UUID) -> None:
        self._deleted.add(key_id)
        key_hash = self._hash_of.pop(key_id, None)
        if key_hash is not None:
            self._by_hash.pop(key_hash, None)

    def forget_user(self, user_id: UUID) -> None:
        """Drop the user's verified keys (not remembered as deleted: enabling them again
        makes the keys work again, asked for afresh)."""
        for key_hash, known in list(self._by_hash.items()):
            if known.user_id == user_id:
                del self._by_hash[key_hash]
                self._hash_of.pop(known.key_id, None)

    def clear(self) -> None:
        """Forget every verified key (after NATS was away: a deletion may have been missed)."""
        self._by_hash.clear()
        self._hash_of.clear()

    async def resolve(self, bus: Bus, key: str) -> UUID | None:
        """The key's user (asking the threads service on a miss), None for an unknown, deleted
        or expired key; NATS away and the key not in memory → 503 (fail closed)."""
        known = self.cached(key)
        if known is None:
            key_hash = self.hash(key)
            query = VerifyApiKey(meta=Envelope(), hash=key_hash)
            reply = await bus.ask(query)
            if not reply.ok:
                if reply.error is not None and reply.error.code == ErrorCode.UNAVAILABLE:
                    raise unavailable()
                return None
            known = self.remember(key_hash, reply_of(query, reply))
            if known is None or self._clock() >= known.expires:
                return None
        self._touch(bus, known)
        return known.user_id

    def _touch(self, bus: Bus, known: KnownKey) -> None:
        """Report the key's use, at most once a minute, without holding the request."""
        now = time.monotonic()
        last = self._touched.get(known.key_id)
        if last is not None and now - last < TOUCH_EVERY:
            return
        self._touched[known.key_id] = now
        cmd = TouchApiKey(
            meta=Envelope(user_id=known.user_id),
            command_id=str(uuid4()),
            key_id=known.key_id,
            used_at=datetime.now(UTC),
        )
        task: asyncio.Task[object] = asyncio.create_task(bus.ask(cmd))
        self._tasks.add(task)
        task.add_done_callback(self._touched_done)

    def _touched_done(self, task: asyncio.Task[object]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("api key use not recorded", error=type(task.exception()).__name__)
