"""Threads: create (bound to a provider), the global list, one thread with its messages,
rename/move, delete, and the thread's event history."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from uuid import UUID, uuid4

import orjson
from fastapi import APIRouter, Depends, Query, Response

from contracts.base import Envelope
from contracts.commands import CreateThread, DeleteThread, UpdateThread
from contracts.queries import GetThread, ListThreads, ThreadEvents
from contracts.views import AckView, EventListView, ThreadDetailView, ThreadPageView, ThreadView
from gateway.api.responses import Responses, error, not_found
from gateway.deps import BusDep, Meta, Send, Sender
from gateway.schemas import ThreadIn, ThreadPatch
from gateway.storable import Text

router = APIRouter(tags=["threads"])
NOT_FOUND = not_found("thread")
# The threads service refuses a cursor it did not make (400), whatever the schema lets through.
BAD_CURSOR: Responses = {400: error("A `cursor` that is not the `next_cursor` of an earlier page")}


async def create_thread(body: ThreadIn, project_id: UUID | None, send: Sender) -> ThreadView:
    """The body's fields bear the command's names, but for the provider's."""
    fields = body.model_dump(exclude={"project_id", "model_provider"})
    provider = body.model_provider
    return await send(
        CreateThread, thread_id=uuid4(), project_id=project_id, provider=provider, **fields
    )


@router.post("/api/threads", status_code=201, response_model=ThreadView)
async def post_thread(body: ThreadIn, send: Send) -> ThreadView:
    return await create_thread(body, body.project_id, send)


def page_params(
    page: int | None, page_size: int | None, limit: int | None, offset: int | None
) -> tuple[int, int]:
    """(offset, limit) from page/page_size or limit/offset; page wins when both are given."""
    size = page_size or limit or 25
    if page is not None or offset is None:
        return ((page or 1) - 1) * size, size
    return offset, size


@dataclass(frozen=True)
class ListWindow:
    """Which part of a thread list: the page, a title search, a cursor."""

    offset: int
    limit: int
    q: str | None
    cursor: str | None


async def list_window(
    page: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
    page_size: Annotated[int | None, Query(ge=1, le=50)] = None,
    limit: Annotated[int | None, Query(ge=1, le=50)] = None,
    offset: Annotated[int | None, Query(ge=0, le=50_000_000)] = None,
    q: Annotated[Text | None, Query(max_length=255, description="search in titles")] = None,
    cursor: Annotated[
        str | None, Query(max_length=512, description="next_cursor of the previous page")
    ] = None,
) -> ListWindow:
    """The query parameters of both thread lists (all threads, one project's)."""
    off, size = page_params(page, page_size, limit, offset)
    return ListWindow(off, size, q, cursor)


Window = Annotated[ListWindow, Depends(list_window)]


async def list_threads(
    bus: BusDep, meta: Envelope, window: ListWindow, project_id: UUID | None
) -> Response:
    """The page exactly as the threads service shaped it (a `ThreadPageView`), passed through
    without validating and re-serialising it once more: this is the hottest read there is."""
    query = ListThreads(
        meta=meta,
        offset=window.offset,
        limit=window.limit,
        project_id=project_id,
        q=window.q,
        cursor=window.cursor,
    )
    page = await bus.call_raw(query)
    return Response(orjson.dumps(page), media_type="application/json")


@router.get("/api/threads", response_model=ThreadPageView, responses=BAD_CURSOR)
async def get_threads(
    bus: BusDep, meta: Meta, window: Window, project_id: UUID | None = None
) -> Response:
    return await list_threads(bus, meta, window, project_id)


@router.get("/api/threads/{thread_id}", response_model=ThreadDetailView, responses=NOT_FOUND)
async def get_thread(thread_id: UUID, bus: BusDep, meta: Meta) -> ThreadDetailView:
    """With the messages of the active path, root first (every branch: `.../messages?path=all`)."""
    return await bus.call(GetThread(meta=meta, thread_id=thread_id))


@router.patch("/api/threads/{thread_id}", response_model=ThreadView, responses=NOT_FOUND)
async def patch_thread(thread_id: UUID, body: ThreadPatch, send: Send) -> ThreadView:
    """Rename (`title`), move (`project_id`; null takes it out of its project) and/or set
    `context_window` (null: the model's), `context_policy` and `instructions` (null clears).
    Renaming does not change `last_activity_at`."""
    return await send(
        UpdateThread,
        thread_id=thread_id,
        title=body.title,
        move="project_id" in body.model_fields_set,
        project_id=body.project_id,
        context_window=body.context_window,
        context_window_set="context_window" in body.model_fields_set,
        context_policy=body.context_policy,
        instructions=body.instructions,
        instructions_set="instructions" in body.model_fields_set,
    )


@router.delete("/api/threads/{thread_id}", response_model=AckView, responses=NOT_FOUND)
async def delete_thread(thread_id: UUID, send: Send) -> AckView:
    """Its messages and documents go with it."""
    return await send(DeleteThread, thread_id=thread_id)


@router.get("/api/threads/{thread_id}/events", response_model=EventListView, responses=NOT_FOUND)
async def get_thread_events(thread_id: UUID, bus: BusDep, meta: Meta) -> EventListView:
    """The thread's event history, oldest first, each event in its current shape."""
    query = ThreadEvents(meta=meta, thread_id=thread_id)
    return await bus.call(query)
