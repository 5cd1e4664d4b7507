"""The model catalogue, owned by the chat worker (it holds the SDKs): every usable provider's
models, and the providers that failed named in `errors` instead of failing the call.

The query carries the catalogue's deadline, a share of this gateway's request timeout: the
worker answers within it whatever the providers do, so a slow provider shows up in `errors`
and never turns the whole call into a 503.
"""

from __future__ import annotations

from fastapi import APIRouter

from contracts.base import Envelope
from contracts.queries import ListModels
from contracts.views import ModelsView
from gateway.bus import Bus
from gateway.deps import BusDep, Meta

router = APIRouter(tags=["providers"])


def catalogue_deadline(timeout: float) -> float:
    """Three quarters of the request timeout, leaving at least half a second (but taking at
    least half of it) for the reply to come back from a busy worker."""
    return max(min(timeout * 0.75, timeout - 0.5), timeout / 2)


async def fetch_models(bus: Bus, meta: Envelope) -> ModelsView:
    return await bus.call(ListModels(meta=meta, deadline=catalogue_deadline(bus.timeout)))


@router.get("/api/models", response_model=ModelsView)
async def list_models(bus: BusDep, meta: Meta) -> ModelsView:
    return await fetch_models(bus, meta)
