"""Register, log in, and who am I."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from uuid import uuid4

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.security import HTTPAuthorizationCredentials

from contracts.commands import RegisterUser, RevokeToken
from contracts.errors import ErrorCode
from contracts.queries import GetCredentials, GetUser
from contracts.views import CredentialsView, UserView
from gateway.api_keys import KEY_PREFIX
from gateway.bus import Bus, reply_of, unavailable
from gateway.deps import (
    AccessTokensDep,
    BusDep,
    PasswordsDep,
    SettingsDep,
    UserId,
    bearer,
    envelope,
)
from gateway.schemas import AccessTokenOut, LoginIn, RegisterIn, RegisterOut

router = APIRouter(tags=["auth"])


@router.post("/api/auth/register", status_code=201, response_model=RegisterOut)
async def register(
    body: RegisterIn,
    request: Request,
    bus: BusDep,
    settings: SettingsDep,
    access_tokens: AccessTokensDep,
    passwords: PasswordsDep,
) -> RegisterOut:
    if not settings.registration_enabled:
        raise HTTPException(403, "Registration is disabled")
    email = body.email.strip().lower()
    key = request.headers.get("idempotency-key")
    cmd = RegisterUser(
        meta=envelope(request, None),
        # Anonymous commands are scoped by email, so a key cannot fetch someone else's reply.
        command_id=f"register:{email}:{key}" if key else str(uuid4()),
        user_id=uuid4(),
        email=email,
        display_name=body.display_name,
        password_hash=await passwords.hash(body.password),
    )
    reply = await bus.ask(cmd)
    user = reply_of(cmd, reply)
    if reply.replayed:
        # The email's first registration, answered again: only its own password gets it.
        creds = await _credentials(bus, request, email)
        if not await passwords.verify(creds.password_hash if creds else None, body.password):
            raise HTTPException(409, "Email already registered")
    return RegisterOut(user=user, access_token=access_tokens.issue(user.id))


async def _credentials(bus: Bus, request: Request, email: str) -> CredentialsView | None:
    """The email's credentials; None when there are none (or the lookup was refused)."""
    query = GetCredentials(meta=envelope(request, None), email=email)
    reply = await bus.ask(query)
    if reply.error is not None and reply.error.code == ErrorCode.UNAVAILABLE:
        raise unavailable()
    return reply_of(query, reply) if reply.ok else None


@router.post("/api/auth/login", response_model=AccessTokenOut)
async def login(
    body: LoginIn,
    request: Request,
    bus: BusDep,
    access_tokens: AccessTokensDep,
    passwords: PasswordsDep,
) -> AccessTokenOut:
    creds = await _credentials(bus, request, body.email)
    # An unknown email is verified against a dummy hash: the same work, the same time.
    if not await passwords.verify(creds.password_hash if creds else None, body.password):
        raise HTTPException(401, "Incorrect email or password")
    assert creds is not None
    if creds.disabled:
        raise HTTPException(403, "This account is disabled")
    return AccessTokenOut(access_token=access_tokens.issue(creds.user_id))


@router.get("/api/me", response_model=UserView)
async def me(user_id: UserId, request: Request, bus: BusDep) -> UserView:
    return await bus.call(GetUser(meta=envelope(request, user_id), user_id=user_id))


@router.post("/api/auth/logout", status_code=204, response_class=Response)
async def logout(
    request: Request,
    bus: BusDep,
    access_tokens: AccessTokensDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Response:
    """The token presented stops working on every gateway (this one at once, the others as
    they hear TokenRevoked). An API key is ended by deleting it instead."""
    token = credentials.credentials if credentials is not None else ""
    if token.startswith(KEY_PREFIX):
        raise HTTPException(400, "An API key is revoked with DELETE /api/keys/{id}")
    session = access_tokens.session(token) if token else None
    if session is None:
        raise HTTPException(401, "Invalid or expired token", headers={"WWW-Authenticate": "Bearer"})
    cmd = RevokeToken(
        meta=envelope(request, session.user_id),
        command_id=f"logout:{session.jti}",
        jti=session.jti,
        expires_at=datetime.fromtimestamp(session.expires, UTC),
    )
    await bus.call(cmd)
    access_tokens.revoke(session.jti, session.expires)
    return Response(status_code=204)
