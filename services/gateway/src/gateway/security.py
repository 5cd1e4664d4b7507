"""Passwords (argon2id, memory-hard) and access tokens (JWT, HS256 only)."""

from __future__ import annotations

import asyncio
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


class Tokens:
    def __init__(self, settings: Settings) -> None:
        self._secret = settings.jwt_secret.get_secret_value()
        self._ttl = timedelta(seconds=settings.jwt_ttl_seconds)

    def issue(self, user_id: UUID) -> str:
        now = datetime.now(UTC)
        claims = {"sub": str(user_id), "iss": ISSUER, "iat": now, "exp": now + self._ttl}
        return jwt.encode(claims, self._secret, algorithm="HS256")

    def verify(self, token: str) -> UUID | None:
        """The user id, or None for anything expired, forged, malformed or unsigned."""
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=["HS256"],
                issuer=ISSUER,
                options={"require": ["sub", "exp", "iat", "iss"]},
            )
            return UUID(claims["sub"])
        except (jwt.PyJWTError, ValueError, TypeError):
            return None
