"""Personal API keys: make one (the key shown this once), list them, delete one (refused at
once on every gateway, see `gateway.revocations`)."""

from __future__ import annotations

from uuid import UUID, uuid4

from fastapi import APIRouter, Response

from contracts.commands import CreateApiKey, DeleteApiKey
from contracts.queries import ListApiKeys
from contracts.views import ApiKeyListView
from gateway.api.responses import not_found
from gateway.api_keys import mint
from gateway.deps import AccessTokensDep, BusDep, Meta, Send
from gateway.schemas import ApiKeyCreatedOut, ApiKeyIn

router = APIRouter(tags=["api keys"])


@router.post("/api/keys", status_code=201, response_model=ApiKeyCreatedOut)
async def create_key(
    body: ApiKeyIn, bus: BusDep, meta: Meta, tokens: AccessTokensDep
) -> ApiKeyCreatedOut:
    """Each call makes a new key (an Idempotency-Key is not used: the key of a first call
    cannot be shown again)."""
    key, prefix = mint()
    cmd = CreateApiKey(
        meta=meta,
        command_id=str(uuid4()),
        key_id=uuid4(),
        name=body.name,
        prefix=prefix,
        hash=tokens.keys.hash(key),
        expires_at=body.expires_at,
    )
    view = await bus.call(cmd)
    return ApiKeyCreatedOut(key=key, **view.model_dump(exclude={"last_used_at"}))


@router.get("/api/keys", response_model=ApiKeyListView)
async def list_keys(bus: BusDep, meta: Meta) -> ApiKeyListView:
    return await bus.call(ListApiKeys(meta=meta))


@router.delete(
    "/api/keys/{key_id}", status_code=204, response_class=Response, responses=not_found("key")
)
async def delete_key(key_id: UUID, send: Send, tokens: AccessTokensDep) -> Response:
    await send(DeleteApiKey, key_id=key_id)
    tokens.keys.forget(key_id)
    return Response(status_code=204)
