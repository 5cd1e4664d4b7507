"""Share links: `POST /api/threads/{id}/share` snapshots the active path under an unguessable
id; anyone with the link reads it at `GET /api/shared/{share_id}` (no token) or opens the
page `/shared/{share_id}`; the owner lists and revokes them. A revoked link, or one of a
deleted thread, answers 404. What a link shows names no user, thread or message."""

from __future__ import annotations

import secrets
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel

from contracts.base import Envelope
from contracts.commands import RevokeShare, ShareThread
from contracts.queries import GetSharedThread, ListShares
from contracts.views import SharedThreadView, ShareView
from gateway.api.responses import not_found
from gateway.deps import BusDep, Meta, Send, envelope

router = APIRouter(tags=["share links"])
ShareId = Annotated[str, Path(min_length=22, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


class ShareOut(BaseModel):
    share_id: str
    url: str
    created_at: str


class ShareListOut(BaseModel):
    shares: list[ShareOut]


def _out(request: Request, share: ShareView) -> ShareOut:
    url = str(request.url_for("shared_page", share_id=share.share_id))
    return ShareOut(share_id=share.share_id, url=url, created_at=share.created_at.isoformat())


@router.post(
    "/api/threads/{thread_id}/share",
    status_code=201,
    response_model=ShareOut,
    responses={**not_found("thread"), 413: {"description": "The active path is too long"}},
)
async def share_thread(thread_id: UUID, request: Request, send: Send) -> ShareOut:
    """A read-only snapshot of the active path as it is now; later messages never show."""
    share_id = secrets.token_urlsafe(24)  # 192 random bits
    return _out(request, await send(ShareThread, thread_id=thread_id, share_id=share_id))


@router.get(
    "/api/threads/{thread_id}/shares", response_model=ShareListOut, responses=not_found("thread")
)
async def list_shares(thread_id: UUID, request: Request, bus: BusDep, meta: Meta) -> ShareListOut:
    listed = await bus.call(ListShares(meta=meta, thread_id=thread_id))
    return ShareListOut(shares=[_out(request, s) for s in listed.shares])


@router.delete(
    "/api/shares/{share_id}", status_code=204, response_class=Response, responses=not_found("share")
)
async def revoke_share(share_id: ShareId, send: Send) -> Response:
    await send(RevokeShare, share_id=share_id)
    return Response(status_code=204)


@router.get(
    "/api/shared/{share_id}",
    response_model=SharedThreadView,
    responses=not_found("share link"),
    summary="A shared thread's snapshot (no token needed)",
)
async def get_shared(share_id: ShareId, request: Request, bus: BusDep) -> SharedThreadView:
    meta: Envelope = envelope(request, None)
    return await bus.call(GetSharedThread(meta=meta, share_id=share_id))
