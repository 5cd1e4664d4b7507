"""The model catalogue, owned by the chat worker (it holds the SDKs): every usable provider's
models, and the providers that failed named in `errors` instead of failing the call.

The query carries the catalogue's deadline, a share of this gateway's request timeout: the
worker answers within it whatever the providers do, so a slow provider shows up in `errors`
and never turns the whole call into a 503.
"""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request

from contracts.queries import ListModels
from contracts.views import ModelsView
from gateway.bus import Bus
from gateway.deps import BusDep, UserId, envelope

router = APIRouter(tags=["providers"])


def catalogue_deadline(timeout: float) -> float:
    """Three quarters of the request timeout, leaving at least half a second (but taking at
    least half of it) for the reply to come back from a busy worker."""
    return max(min(timeout * 0.75, timeout - 0.5), timeout / 2)


async def fetch_models(request: Request, bus: Bus, user_id: UUID) -> ModelsView:
    query = ListModels(meta=envelope(request, user_id), deadline=catalogue_deadline(bus.timeout))
    return await bus.call(query)


@router.get("/api/models", response_model=ModelsView)
async def list_models(request: Request, bus: BusDep, user_id: UserId) -> ModelsView:
    return await fetch_models(request, bus, user_id)
