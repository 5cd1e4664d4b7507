"""The conversation tree: regenerate an answer, edit a question, switch the active branch,
fork a thread at a message.

Nothing is overwritten: a regenerated answer or an edited question is a new sibling of the
message named in the path, and its answer becomes the thread's active leaf. Regenerate and
edit answer with the chat stream (`chat.answer_stream`), so resuming and cancelling work on
them as on any chat.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID, uuid4

from fastapi import APIRouter, Body
from fastapi.responses import StreamingResponse

from contracts.commands import EditMessage, ForkThread, RegenerateAnswer, SetActiveLeaf
from contracts.views import ThreadView
from gateway.api.chat import SSE_RESPONSES, Answer, question
from gateway.api.responses import Responses, error
from gateway.deps import Send
from gateway.schemas import MessageRef, QuestionIn, RegenerateIn

router = APIRouter(tags=["conversation tree"])

NOT_IN_THREAD = error("No such thread, or the message is not one of it")
STREAMING = error(
    "An answer of this thread is still streaming, or an Idempotency-Key used for another request"
)
REGENERATE_RESPONSES: Responses = {
    **SSE_RESPONSES,
    400: error("The message is not an answer, or `model` is not one of the thread's provider"),
    404: NOT_IN_THREAD,
    409: STREAMING,
}
EDIT_RESPONSES: Responses = {
    **SSE_RESPONSES,
    400: error("The message is not a question, or its new content is blank"),
    404: NOT_IN_THREAD,
    409: STREAMING,
}


@router.post(
    "/api/threads/{thread_id}/messages/{message_id}/regenerate",
    response_class=StreamingResponse,
    responses=REGENERATE_RESPONSES,
    summary="Answer the same question again, beside this answer (SSE)",
)
async def regenerate(
    thread_id: UUID,
    message_id: UUID,
    answer: Answer,
    body: Annotated[RegenerateIn | None, Body()] = None,
) -> StreamingResponse:
    """A new assistant sibling of `message_id` with the same ancestors as context. The body
    may be left out."""
    model = body.model if body else None
    options = body.options.contract() if body and body.options else None
    return await answer(
        RegenerateAnswer, thread_id=thread_id, message_id=message_id, model=model, options=options
    )


@router.post(
    "/api/threads/{thread_id}/messages/{message_id}/edit",
    response_class=StreamingResponse,
    responses=EDIT_RESPONSES,
    summary="Ask an edited question beside this one and stream its answer (SSE)",
)
async def edit(
    thread_id: UUID, message_id: UUID, body: QuestionIn, answer: Answer
) -> StreamingResponse:
    """A new user sibling of `message_id` with the new content, and its answer."""
    fields = question(body)
    return await answer(EditMessage, thread_id=thread_id, message_id=message_id, **fields)


@router.put(
    "/api/threads/{thread_id}/active-leaf",
    response_model=ThreadView,
    responses={404: NOT_IN_THREAD},
    summary="Switch branch: the active path goes through this message",
)
async def set_active_leaf(thread_id: UUID, body: MessageRef, send: Send) -> ThreadView:
    """The path to `message_id`, then below it the most recently created child at each level."""
    return await send(SetActiveLeaf, thread_id=thread_id, message_id=body.message_id)


@router.post(
    "/api/threads/{thread_id}/fork",
    status_code=201,
    response_model=ThreadView,
    responses={404: NOT_IN_THREAD},
    summary="A new thread holding copies of the path from the root to this message",
)
async def fork(thread_id: UUID, body: MessageRef, send: Send) -> ThreadView:
    """Same provider, model, project and type; `forked_from` names the source. An
    Idempotency-Key replay answers with the thread the first request made, not a new one."""
    message_id = body.message_id
    return await send(ForkThread, thread_id=thread_id, message_id=message_id, new_thread_id=uuid4())
