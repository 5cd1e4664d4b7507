"""Passwords (argon2id, memory-hard) and access tokens (JWT, HS256 only)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from uuid import UUID

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from gateway.config import Settings

ISSUER = "switchboard"


class Passwords:
    """Hashing runs in a thread: argon2 releases the GIL and would otherwise block the loop."""

    def __init__(self, settings: Settings) -> None:
        self._hasher = PasswordHasher(
            time_cost=settings.argon2_time_cost, memory_cost=settings.argon2_memory_kib
        )
        # Verified against when an email is unknown, so login takes the same time either way.
        self._dummy = self._hasher.hash("not-a-real-password-only-for-equal-timing")

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        def check() -> bool:
            try:
                return self._hasher.verify(password_hash or self._dummy, password)
            except (VerificationError, InvalidHashError):
                return False

        ok = await asyncio.to_thread(check)
        return ok and password_hash is not None


class AccessTokens:
    """HS256 access tokens. A verified token is remembered until it expires: every request
    verifies its token (the per-user limits and the route both need the user), and decoding a
    JWT is CPU spent on the way to every first token. Nothing else can invalidate a token
    before its `exp`, so remembering it changes no answer."""

    MAX_REMEMBERED = 10_000

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.time) -> None:
        self._secret = settings.jwt_secret.get_secret_value()
        self._ttl = timedelta(seconds=settings.jwt_ttl_seconds)
        self._clock = clock
        self._verified: dict[str, tuple[UUID, float]] = {}

    def issue(self, user_id: UUID) -> str:
        now = datetime.now(UTC)
        claims = {"sub": str(user_id), "iss": ISSUER, "iat": now, "exp": now + self._ttl}
        return jwt.encode(claims, self._secret, algorithm="HS256")

    def verify(self, access_token: str) -> UUID | None:
        """The user id, or None for anything expired, forged, malformed or unsigned."""
        known = self._verified.get(access_token)
        if known is not None:
            user_id, expires = known
            if self._clock() < expires:
                return user_id
            del self._verified[access_token]
            return None
        try:
            claims = jwt.decode(
                access_token,
                self._secret,
                algorithms=["HS256"],
                issuer=ISSUER,
                options={"require": ["sub", "exp", "iat", "iss"]},
            )
            user_id = UUID(claims["sub"])
            expires = float(claims["exp"])
        except (jwt.PyJWTError, ValueError, TypeError):
            return None
        if len(self._verified) >= self.MAX_REMEMBERED:
            self._verified.clear()
        self._verified[access_token] = (user_id, expires)
        return user_id
