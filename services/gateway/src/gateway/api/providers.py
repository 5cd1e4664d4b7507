"""Provider settings: list, configure (the key goes in, never comes back out), remove."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from contracts.commands import ConfigureProvider, RemoveProvider
from contracts.providers import PROVIDER_NAMES
from contracts.queries import ListProviders
from contracts.views import AckView, ProviderListView, ProviderView
from gateway.deps import BusDep, CommandId, Meta
from gateway.known_names import one_of
from gateway.schemas import ProviderConfigIn

router = APIRouter(tags=["providers"])
ProviderPath = Annotated[
    str,
    Path(max_length=40, description="A known provider; any other name is a 404"),
    one_of(PROVIDER_NAMES),
]


@router.get("/api/providers", response_model=ProviderListView)
async def list_providers(bus: BusDep, meta: Meta) -> ProviderListView:
    return await bus.call(ListProviders(meta=meta))


@router.put("/api/providers/{provider}/config", response_model=ProviderView)
async def configure_provider(
    provider: ProviderPath,
    body: ProviderConfigIn,
    bus: BusDep,
    meta: Meta,
    command_id: CommandId,
) -> ProviderView:
    given = body.model_fields_set
    api_key = body.api_key.get_secret_value() if body.api_key is not None else None
    cmd = ConfigureProvider(
        meta=meta,
        command_id=command_id,
        provider=provider,
        api_key=api_key,
        api_key_set=api_key is not None,
        base_url=body.base_url,
        base_url_set="base_url" in given,
        enabled=body.enabled,
    )
    return await bus.call(cmd)


@router.delete("/api/providers/{provider}", response_model=AckView)
async def remove_provider(
    provider: ProviderPath, bus: BusDep, meta: Meta, command_id: CommandId
) -> AckView:
    cmd = RemoveProvider(meta=meta, command_id=command_id, provider=provider)
    return await bus.call(cmd)
