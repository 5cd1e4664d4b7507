"""The model catalogue, owned by the chat worker (it holds the SDKs): every usable provider's
models, and the providers that failed named in `errors` instead of failing the call."""

from __future__ import annotations

from fastapi import APIRouter, Request

from contracts import subjects
from contracts.queries import ListModels
from contracts.views import ModelsView
from gateway.deps import BusDep, UserId, envelope

router = APIRouter(tags=["providers"])


@router.get("/api/models", response_model=ModelsView)
async def list_models(request: Request, bus: BusDep, user_id: UserId) -> ModelsView:
    data = await bus.call(subjects.MODELS_LIST, ListModels(meta=envelope(request, user_id)))
    return ModelsView.model_validate(data)
