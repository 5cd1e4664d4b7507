"""`qry.models.list`: answers the gateway's GET /api/models from the catalogue.

Any worker may answer (one queue group); each keeps its own short-lived cache. Queries are
answered concurrently (`models_concurrency`): one at a time, a user waiting on a slow provider
would make every listing queued behind it miss the gateway's timeout.
"""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from faststream.nats import NatsRouter
from pydantic import ValidationError

from chat_worker.catalogue import Catalogue
from chat_worker.worker import Worker
from contracts import subjects
from contracts.asyncapi import payload_of
from contracts.errors import ErrorCode
from contracts.queries import ListModels
from contracts.replies import Reply

log = structlog.get_logger(__name__)
MODELS_QUEUE = "chat-worker-models"


def build_catalogue(worker: Worker) -> Catalogue:
    """Credentials through the worker's one resolver, the same rules a chat follows. Bound
    late: the threads client exists only once the worker is attached to NATS."""
    settings = worker.settings
    return Catalogue(
        worker.registry.get,
        lambda meta, provider: worker.credentials.resolve(meta, provider),
        lambda meta, provider: worker.threads.provider_credentials(meta, provider),
        settings,
        deadline=settings.models_deadline,
        ttl=settings.models_cache_ttl,
        error_ttl=settings.models_error_ttl,
    )


_background: set[asyncio.Task[None]] = set()


def _warm_up_soon(catalogue: Catalogue) -> None:
    """Warm the SDKs while the worker connects and provisions (the router is built inside
    the running loop), so the first real listing does not pay for their imports."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return
    task = loop.create_task(catalogue.warm_up(), name="models-warm-up")
    _background.add(task)
    task.add_done_callback(_background.discard)


async def handle(body: dict[str, Any], catalogue: Catalogue) -> dict[str, Any]:
    try:
        query = ListModels.model_validate(body)
    except ValidationError:
        return Reply.failure(ErrorCode.INVALID, "Malformed ListModels query").model_dump(
            mode="json"
        )
    if query.meta.user_id is None:
        return Reply.failure(ErrorCode.INVALID, "ListModels needs a user").model_dump(mode="json")
    with structlog.contextvars.bound_contextvars(
        correlation_id=str(query.meta.correlation_id), user_id=str(query.meta.user_id)
    ):
        view = await catalogue.list_models(query.meta, query.deadline)
        log.info("models listed", models=len(view.models), failed=[e.provider for e in view.errors])
    return Reply.success(view.model_dump(mode="json")).model_dump(mode="json")


def build_router(worker: Worker) -> NatsRouter:
    router = NatsRouter()
    catalogue = build_catalogue(worker)
    _warm_up_soon(catalogue)

    @router.subscriber(
        subjects.MODELS_LIST,
        queue=MODELS_QUEUE,
        max_workers=worker.settings.models_concurrency,
        title="ListModels",
        description="Request/reply: answered with a `Reply` whose `data` is a ModelsView.",
    )
    @payload_of(ListModels)
    async def on_list_models(body: dict[str, Any]) -> dict[str, Any]:
        return await handle(body, catalogue)

    return router
