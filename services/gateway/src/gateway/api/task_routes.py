"""Task routes: which provider and model each task (chat, title) uses by default."""

from __future__ import annotations

from fastapi import APIRouter

from contracts.commands import SetTaskRoutes
from contracts.events import TaskRoute
from contracts.queries import GetTaskRoutes
from contracts.views import TaskRoutesView
from gateway.deps import BusDep, Meta, Send
from gateway.schemas import TaskRoutesIn

router = APIRouter(tags=["providers"])


@router.get("/api/task-routes", response_model=TaskRoutesView)
async def get_task_routes(bus: BusDep, meta: Meta) -> TaskRoutesView:
    return await bus.call(GetTaskRoutes(meta=meta))


@router.put("/api/task-routes", response_model=TaskRoutesView)
async def put_task_routes(body: TaskRoutesIn, send: Send) -> TaskRoutesView:
    """Replaces every route; an unknown task or provider → 400 and nothing changes."""
    return await send(
        SetTaskRoutes,
        use_separate_models=body.use_separate_models,
        routes=[TaskRoute(task=r.task, provider=r.provider, model=r.model) for r in body.routes],
    )
