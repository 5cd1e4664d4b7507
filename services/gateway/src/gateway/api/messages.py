"""Messages stored as given (no generation): post, list (the active path, or every branch),
delete (a message and everything below it)."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID, uuid4

from fastapi import APIRouter, Query

from contracts.commands import DeleteMessage, PostMessage
from contracts.queries import ListMessages
from contracts.views import AckView, MessageListView, MessageView
from gateway.api.responses import error, not_found
from gateway.deps import BusDep, Meta, Send
from gateway.schemas import MessageIn

router = APIRouter(tags=["messages"])
THREAD_NOT_FOUND = not_found("thread")
ListedPath = Literal["active", "all"]


@router.post(
    "/api/threads/{thread_id}/messages",
    status_code=201,
    response_model=MessageView,
    responses={404: error("No such thread, or `parent_id` is not a message of it")},
)
async def post_message(thread_id: UUID, body: MessageIn, send: Send) -> MessageView:
    return await send(
        PostMessage,
        thread_id=thread_id,
        message_id=uuid4(),
        role=body.role,
        content=body.content or "",
        artifact_data=body.artifact_data,
        metadata=body.metadata,
        parent_id=body.parent_id,
    )


@router.get(
    "/api/threads/{thread_id}/messages",
    response_model=MessageListView,
    responses=THREAD_NOT_FOUND,
)
async def get_messages(
    thread_id: UUID,
    bus: BusDep,
    meta: Meta,
    path: Annotated[
        ListedPath,
        Query(
            description="`active`: the active path, root first; `all`: every branch, oldest first"
        ),
    ] = "active",
) -> MessageListView:
    query = ListMessages(meta=meta, thread_id=thread_id, path=path)
    return await bus.call(query)


@router.delete(
    "/api/messages/{message_id}",
    response_model=AckView,
    responses=not_found("message"),
)
async def delete_message(message_id: UUID, send: Send) -> AckView:
    """The message and everything below it; an active leaf among them moves to the parent's
    newest remaining branch."""
    return await send(DeleteMessage, message_id=message_id)
