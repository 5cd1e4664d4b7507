"""`qry.models.list`: answers the gateway's GET /api/models from the catalogue.

Any worker may answer (one queue group); each keeps its own short-lived cache. Queries are
answered concurrently (`models_concurrency`): one at a time, a user waiting on a slow provider
would make every listing queued behind it miss the gateway's timeout.
"""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from pydantic import ValidationError

from chat_worker.catalogue import Catalogue
from chat_worker.config import Settings
from chat_worker.credentials import CredentialResolver
from chat_worker.providers.registry import ProviderRegistry
from contracts.errors import ErrorCode
from contracts.queries import ListModels
from contracts.replies import Reply

log = structlog.get_logger(__name__)
QUEUE = "chat-worker-models"


class ModelListing:
    def __init__(
        self, settings: Settings, registry: ProviderRegistry, credentials: CredentialResolver
    ) -> None:
        # Credentials through the worker's one resolver, the same rules a chat follows.
        self.catalogue = Catalogue(
            registry.get,
            credentials.resolve,
            credentials.own,
            settings,
            deadline=settings.models_deadline,
            ttl=settings.models_cache_ttl,
            error_ttl=settings.models_error_ttl,
        )
        self._warming: asyncio.Task[None] | None = None

    def warm_up_soon(self) -> None:
        """Warms the SDKs in the background while the worker provisions, so the first real
        listing does not pay for their imports."""
        self._warming = asyncio.get_running_loop().create_task(
            self.catalogue.warm_up(), name="models-warm-up"
        )

    async def answer(self, body: dict[str, Any]) -> dict[str, Any]:
        try:
            query = ListModels.model_validate(body)
        except ValidationError:
            return Reply.failure(ErrorCode.INVALID, "Malformed ListModels query").model_dump(
                mode="json"
            )
        if query.meta.user_id is None:
            return Reply.failure(ErrorCode.INVALID, "ListModels needs a user").model_dump(
                mode="json"
            )
        with structlog.contextvars.bound_contextvars(
            correlation_id=str(query.meta.correlation_id), user_id=str(query.meta.user_id)
        ):
            view = await self.catalogue.list_models(query.meta, query.deadline)
            log.info(
                "models listed", models=len(view.models), failed=[e.provider for e in view.errors]
            )
        return Reply.success(view.model_dump(mode="json")).model_dump(mode="json")
