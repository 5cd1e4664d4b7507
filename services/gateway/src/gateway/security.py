"""Passwords (argon2id, memory-hard) and access tokens (JWT, HS256 only)."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from gateway.api_keys import KEY_PREFIX, KeyCache
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


@dataclass(frozen=True, slots=True)
class Session:
    """A verified login token: whose, its id (`jti`) and when it expires (epoch seconds)."""

    user_id: UUID
    jti: str
    expires: float


class AccessTokens:
    """HS256 access tokens, and the personal API keys beside them (`keys`). A verified token is
    remembered until it expires: every request verifies its token (the per-user limits and the
    route both need the user), and decoding a JWT is CPU spent on the way to every first
    token. Only a logout or disabling its user can end a token before its `exp`: `revoked`
    holds the ids of those tokens and `disabled` the users, kept current on every gateway by
    `gateway.revocations`, and both are checked on every hit."""

    MAX_REMEMBERED = 10_000

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.time) -> None:
        self._secret = settings.jwt_secret.get_secret_value()
        self._ttl = timedelta(seconds=settings.jwt_ttl_seconds)
        self._clock = clock
        self._verified: dict[str, Session] = {}
        self.revoked: dict[str, float] = {}  # jti → the token's expiry
        self.disabled: set[UUID] = set()  # users whose every credential is refused
        self.keys = KeyCache(settings.api_key_hmac_secret(), clock)

    def issue(self, user_id: UUID) -> str:
        now = datetime.now(UTC)
        claims = {
            "sub": str(user_id),
            "iss": ISSUER,
            "iat": now,
            "exp": now + self._ttl,
            "jti": uuid4().hex,
        }
        return jwt.encode(claims, self._secret, algorithm="HS256")

    def verify(self, access_token: str) -> UUID | None:
        """The user id, or None for anything expired, revoked, forged, malformed or unsigned.
        An API key answers from memory only (`keys.resolve` asks on a miss)."""
        if access_token.startswith(KEY_PREFIX):
            known = self.keys.cached(access_token)
            if known is None or known.user_id in self.disabled:
                return None
            return known.user_id
        session = self.session(access_token)
        return session.user_id if session is not None else None

    def revoke(self, jti: str, expires: float) -> None:
        self.revoked[jti] = expires

    def disable_user(self, user_id: UUID) -> None:
        """Refuse every token and key of the user from now on, and drop the ones in memory."""
        self.disabled.add(user_id)
        self._verified = {t: s for t, s in self._verified.items() if s.user_id != user_id}
        self.keys.forget_user(user_id)

    def enable_user(self, user_id: UUID) -> None:
        self.disabled.discard(user_id)

    def forget_expired_revocations(self) -> None:
        now = self._clock()
        self.revoked = {jti: exp for jti, exp in self.revoked.items() if exp > now}

    def session(self, access_token: str) -> Session | None:
        known = self._verified.get(access_token)
        if known is not None:
            if (
                self._clock() < known.expires
                and known.jti not in self.revoked
                and known.user_id not in self.disabled
            ):
                return known
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
            # A token issued before tokens had ids is named by its digest, so it can be revoked.
            jti = str(claims.get("jti") or hashlib.sha256(access_token.encode()).hexdigest()[:32])
            session = Session(UUID(claims["sub"]), jti, float(claims["exp"]))
        except (jwt.PyJWTError, ValueError, TypeError):
            return None
        if session.jti in self.revoked or session.user_id in self.disabled:
            return None
        if len(self._verified) >= self.MAX_REMEMBERED:
            self._verified.clear()
        self._verified[access_token] = session
        return session
