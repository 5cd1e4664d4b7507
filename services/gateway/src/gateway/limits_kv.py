"""The JetStream KV bucket every gateway of a deployment keeps its users' limits in, and the one
way to change a key there: read it, compute, write it back only if nobody wrote in between
(`Nats-Expected-Last-Subject-Sequence`), each write with its own TTL so a key left alone
disappears.

When NATS is away, or the bucket is broken, a call raises `Unavailable` at once (after one
short timeout at most) and the store stays "down" for `limits_retry_seconds`, so the callers
fall back to the gateway's own limits without waiting on NATS for every request. The first
call after that declares the bucket again (it may have been deleted) and tries.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import structlog
from nats.aio.client import Client as NATS
from nats.js.api import Header, KeyValueConfig, StorageType
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from gateway.config import Settings

log = structlog.get_logger(__name__)
SETUP_TIMEOUT = 2.0  # seconds for declaring the bucket, once
CAS_ATTEMPTS = 8  # writers of one user's key at once: the gateways, a few each
# A key's value becomes the new value and its TTL (whole seconds, at least 1), or None: no write.
Change = Callable[[bytes | None], tuple[bytes, int] | None]


class Unavailable(Exception):
    """The shared store cannot answer now: use the gateway's own limits."""


class LimitsStore:
    """Unavailable until `attach`ed to the gateway's NATS client (at start)."""

    def __init__(self, settings: Settings) -> None:
        self.bucket = settings.limits_bucket
        self.replicas = settings.stream_replicas
        self.retry_seconds = settings.limits_retry_seconds
        self.timeout = settings.limits_timeout
        self.nc: NATS | None = None
        self._kv: KeyValue | None = None
        self._down_until = 0.0

    def attach(self, nc: NATS) -> None:
        self.nc = nc
        self.js = nc.jetstream(timeout=self.timeout)
        self.setup_js = nc.jetstream(timeout=max(self.timeout, SETUP_TIMEOUT))

    async def change(self, key: str, change: Change) -> bytes | None:
        """Apply `change` to the key's current value, atomically; the value it wrote (or the
        current one, when it wrote nothing)."""
        kv = await self._ready()
        try:
            for _ in range(CAS_ATTEMPTS):
                try:
                    entry = await kv.get(key)
                    current, revision = entry.value, entry.revision
                except KeyNotFoundError:
                    current, revision = None, 0
                update = change(current)
                if update is None:
                    return current
                value, ttl = update
                try:
                    await self.js.publish(
                        f"$KV.{self.bucket}.{key}",
                        value,
                        headers={Header.EXPECTED_LAST_SUBJECT_SEQUENCE: str(revision)},
                        msg_ttl=max(1, ttl),
                    )
                except Exception as exc:
                    if _wrong_sequence(exc):
                        continue  # another gateway wrote first: read again
                    raise
                return value
        except Exception as exc:
            self._failed(exc)
            raise Unavailable(str(exc)) from exc
        raise Unavailable("too many writers at once")

    async def _ready(self) -> KeyValue:
        if self.nc is None or not self.nc.is_connected or time.monotonic() < self._down_until:
            raise Unavailable("NATS is away")
        if self._kv is None:
            try:
                self._kv = await self._declare()
            except Exception as exc:
                self._failed(exc)
                raise Unavailable(str(exc)) from exc
            log.info("shared limits", bucket=self.bucket)
        return self._kv

    async def _declare(self) -> KeyValue:
        config = KeyValueConfig(
            bucket=self.bucket,
            description="per-user rate limits and open streams, shared by the gateways",
            history=1,
            storage=StorageType.MEMORY,  # counters for the next minutes: no disk needed
            replicas=self.replicas,
            direct=True,
        )
        try:
            await self.setup_js.create_key_value(config)
        except Exception:
            await self.setup_js.key_value(self.bucket)  # there already, set up otherwise
        return await self.js.key_value(self.bucket)  # reads and writes on the short timeout

    def _failed(self, exc: BaseException) -> None:
        if time.monotonic() >= self._down_until:
            log.warning(
                "shared limits unavailable: this gateway's own limits apply",
                error=type(exc).__name__,
                retry_in=self.retry_seconds,
            )
        self._kv = None  # declared again on the next try
        self._down_until = time.monotonic() + self.retry_seconds


def _wrong_sequence(exc: BaseException) -> bool:
    return isinstance(exc, KeyWrongLastSequenceError) or getattr(exc, "err_code", None) in (
        10071,
        10164,
    )
