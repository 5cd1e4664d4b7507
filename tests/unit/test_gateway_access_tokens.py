"""Access tokens: a token is good until its `exp`, also once remembered as verified; a forged,
expired or malformed one is refused."""

from __future__ import annotations

import time
from uuid import uuid4

import jwt
from pydantic import SecretStr

from gateway.config import Settings
from gateway.security import ISSUER, AccessTokens

SECRET = "a-test-secret-of-more-than-thirty-two-characters"


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def access_tokens(clock: Clock) -> AccessTokens:
    return AccessTokens(Settings(jwt_secret=SecretStr(SECRET)), clock=clock)


def signed(exp: float, secret: str = SECRET, **claims: object) -> str:
    now = int(time.time())
    body = {"sub": str(uuid4()), "iss": ISSUER, "iat": now, "exp": int(exp), **claims}
    return jwt.encode(body, secret, algorithm="HS256")


def test_an_issued_token_verifies_again_and_again() -> None:
    clock = Clock()
    t = access_tokens(clock)
    user = uuid4()
    token = t.issue(user)
    assert t.verify(token) == user
    assert t.verify(token) == user


def test_a_remembered_token_still_expires() -> None:
    clock = Clock()
    t = access_tokens(clock)
    token = signed(exp=clock.now + 60)
    assert t.verify(token) is not None
    clock.now += 61
    assert t.verify(token) is None


def test_forged_expired_and_malformed_tokens_are_refused() -> None:
    t = access_tokens(Clock())
    assert t.verify(signed(exp=time.time() + 60, secret="another-secret-also-long-enough!")) is None
    assert t.verify(signed(exp=time.time() - 1)) is None
    assert t.verify(signed(exp=time.time() + 60, iss="someone-else")) is None
    assert t.verify("not.a.token") is None
