"""Register, log in, and who am I."""

from __future__ import annotations

from uuid import uuid4

from fastapi import APIRouter, HTTPException, Request

from contracts.commands import RegisterUser
from contracts.errors import ErrorCode
from contracts.queries import GetCredentials, GetUser
from contracts.views import CredentialsView, UserView
from gateway.bus import Bus, reply_of, unavailable
from gateway.deps import (
    AccessTokensDep,
    BusDep,
    PasswordsDep,
    SettingsDep,
    UserId,
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
    return AccessTokenOut(access_token=access_tokens.issue(creds.user_id))


@router.get("/api/me", response_model=UserView)
async def me(user_id: UserId, request: Request, bus: BusDep) -> UserView:
    return await bus.call(GetUser(meta=envelope(request, user_id), user_id=user_id))
