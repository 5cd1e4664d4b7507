"""Queries about provider settings: the list for HTTP (never a key), the decrypted credentials
for the chat worker only, and the task routes."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.errors import ErrorCode
from contracts.providers import PROVIDERS, TASKS
from contracts.views import ProviderCredentialsView, ProviderView, TaskRoutesView, TaskRouteView
from threads.domain.errors import DomainError, not_found
from threads.domain.provider_settings import require_known
from threads.store.crypto import KeyRing, SecretDecryptError, associated_data
from threads.store.tables import preferences, provider_settings, secrets, task_routes


def is_configured(provider: str, row: Any | None) -> bool:
    """Echo needs nothing; a keyless provider (Ollama) needs a saved config; the others a key
    of the user's own (the chat worker never sends the deployment's key to a user's URL)."""
    if provider == "echo":
        return True
    if row is None:
        return False
    return bool(row.key_set or not PROVIDERS[provider].needs_key)


async def list_providers(conn: AsyncConnection, user_id: UUID) -> dict[str, Any]:
    rows = {
        r.provider: r
        for r in await conn.execute(
            select(provider_settings).where(provider_settings.c.user_id == user_id)
        )
    }
    chat_route = (
        await conn.execute(
            select(task_routes.c.provider, task_routes.c.model).where(
                task_routes.c.user_id == user_id, task_routes.c.task == "chat"
            )
        )
    ).first()
    views = []
    for name, info in PROVIDERS.items():
        row = rows.get(name)
        routed = chat_route.model if chat_route and chat_route.provider == name else None
        views.append(
            ProviderView(
                provider=name,
                display_name=info.display_name,
                configured=is_configured(name, row),
                enabled=row.enabled if row is not None else name == "echo",
                base_url=row.base_url if row is not None else None,
                key_hint=row.key_hint if row is not None else None,
                default_model=routed or info.default_model,
            ).model_dump(mode="json")
        )
    return {"providers": views}


async def get_provider(conn: AsyncConnection, user_id: UUID, provider: str) -> ProviderView:
    """One entry of the list (the reply to configuring it)."""
    listed = await list_providers(conn, user_id)
    for view in listed["providers"]:
        if view["provider"] == provider:
            return ProviderView.model_validate(view)
    raise not_found("Provider")


async def get_credentials(
    conn: AsyncConnection, ring: KeyRing, user_id: UUID, provider: str
) -> ProviderCredentialsView:
    """For the chat worker: the user's decrypted key; `configured` False means no saved config
    (the worker may fall back to the deployment's key)."""
    require_known(provider)
    row = (
        await conn.execute(
            select(
                provider_settings.c.enabled,
                provider_settings.c.base_url,
                provider_settings.c.key_set,
                secrets.c.key_id,
                secrets.c.ciphertext,
            )
            .outerjoin(
                secrets,
                (secrets.c.user_id == provider_settings.c.user_id)
                & (secrets.c.provider == provider_settings.c.provider),
            )
            .where(provider_settings.c.user_id == user_id, provider_settings.c.provider == provider)
        )
    ).first()
    return credentials_view(ring, user_id, provider, row)


def credentials_view(
    ring: KeyRing, user_id: UUID, provider: str, row: Any | None
) -> ProviderCredentialsView:
    """The credentials from a saved config row (`enabled`, `base_url`, `key_set`) and its
    sealed key (`key_id`, `ciphertext`, None when no key is stored), or none saved (None)."""
    if row is None:
        return ProviderCredentialsView(provider=provider, configured=False, enabled=True)
    api_key = None
    if row.key_set and row.ciphertext is not None:
        try:
            api_key = ring.open(
                row.key_id, bytes(row.ciphertext), associated_data(user_id, provider)
            )
        except SecretDecryptError as exc:
            raise DomainError(
                ErrorCode.UNAVAILABLE, f"Stored key cannot be decrypted: {exc}"
            ) from None
    return ProviderCredentialsView(
        provider=provider,
        configured=True,
        enabled=row.enabled,
        api_key=api_key,
        base_url=row.base_url,
    )


async def get_task_routes(conn: AsyncConnection, user_id: UUID) -> TaskRoutesView:
    separate = await conn.scalar(
        select(preferences.c.use_separate_models).where(preferences.c.user_id == user_id)
    )
    rows = (await conn.execute(select(task_routes).where(task_routes.c.user_id == user_id))).all()
    return TaskRoutesView(
        use_separate_models=bool(separate),
        routes=[
            TaskRouteView(task=r.task, provider=r.provider, model=r.model)
            for r in sorted(rows, key=lambda r: TASKS.index(r.task))
        ],
    )
