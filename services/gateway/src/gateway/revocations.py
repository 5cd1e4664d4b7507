"""Revocations reaching every gateway's memory at once: each gateway subscribes (core NATS,
no queue group, so every one hears it) to the events that end a credential, as the threads
service's outbox relay publishes them, and drops the credential from its caches.

A gateway that starts, or comes back after NATS was away (it may have missed events), asks
for the revocations in force (`GetRevocations`) and forgets every verified API key, so each
is asked for again. While NATS is away nothing new is learnt; a key not in memory is then
refused with 503 (fail closed), as every route needing the threads service is.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime
from uuid import UUID

import structlog
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg

from contracts.base import Envelope
from contracts.queries import GetRevocations
from contracts.relayed import decode_relayed
from contracts.subjects import REVOCATION_FILTERS
from gateway.bus import Bus
from gateway.security import AccessTokens

log = structlog.get_logger(__name__)
RETRY_EVERY = 1.0  # seconds between attempts to learn the revocations in force


def _token_revoked(tokens: AccessTokens, data: dict[str, object]) -> None:
    tokens.revoke(str(data["jti"]), datetime.fromisoformat(str(data["expires_at"])).timestamp())


def _key_deleted(tokens: AccessTokens, data: dict[str, object]) -> None:
    tokens.keys.forget(UUID(str(data["key_id"])))


# What each revoking event does to a gateway's memory.
ON_EVENT: dict[str, Callable[[AccessTokens, dict[str, object]], None]] = {
    "TokenRevoked": _token_revoked,
    "ApiKeyDeleted": _key_deleted,
    "UserDisabled": lambda tokens, data: tokens.disable_user(UUID(str(data["user_id"]))),
    "UserEnabled": lambda tokens, data: tokens.enable_user(UUID(str(data["user_id"]))),
}


class RevocationFeed:
    def __init__(self, nc: NATS, bus: Bus, tokens: AccessTokens) -> None:
        self._nc = nc
        self._bus = bus
        self._tokens = tokens
        self._task: asyncio.Task[None] | None = None
        self._resyncing: asyncio.Task[None] | None = None

    def start(self, connecting: asyncio.Task[None]) -> None:
        """Once `connecting` (the first connection) is done: subscribe, then learn."""
        self._task = asyncio.create_task(self._run(connecting))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def resync(self) -> None:
        """After NATS was away: keys asked for again, the revocations in force learnt again."""
        self._tokens.keys.clear()
        self._resyncing = asyncio.create_task(self._learn())

    async def _run(self, connecting: asyncio.Task[None]) -> None:
        try:
            await self._follow(connecting)
        except Exception:
            log.exception("revocations not followed")
            raise

    async def _follow(self, connecting: asyncio.Task[None]) -> None:
        await asyncio.shield(connecting)
        for subject in REVOCATION_FILTERS:  # subscriptions outlive reconnects
            await self._nc.subscribe(subject, cb=self._on_msg)
        await self._learn()
        log.info("revocations followed", revoked_tokens=len(self._tokens.revoked))

    async def _learn(self) -> None:
        """The revocations in force, asked until answered (subscribed first: none is lost)."""
        while True:
            try:
                view = await self._bus.call(GetRevocations(meta=Envelope()))
            except Exception as exc:
                log.warning("revocations not learnt yet", error=type(exc).__name__)
                await asyncio.sleep(RETRY_EVERY)
                continue
            for jti, expires_at in view.tokens.items():
                self._tokens.revoke(jti, expires_at.timestamp())
            for user_id in view.disabled_users:
                self._tokens.disable_user(user_id)
            self._tokens.forget_expired_revocations()
            return

    async def _on_msg(self, msg: Msg) -> None:
        try:
            fields = decode_relayed(msg.data)
            apply = ON_EVENT.get(fields["type"])
            if apply is not None:
                apply(self._tokens, fields["data"])
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("unreadable revocation", subject=msg.subject, error=type(exc).__name__)
