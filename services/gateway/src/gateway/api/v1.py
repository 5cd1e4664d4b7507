"""An OpenAI-compatible face on Switchboard: `POST /v1/chat/completions` and `GET /v1/models`,
so existing OpenAI clients and chat front-ends can use Switchboard as their backend.

Authenticated with a Switchboard access token (bearer). `model` is `provider/model` (`echo/echo`).
Every exchange is an ordinary chat: without `X-Switchboard-Thread` a new thread is made (bound
to that provider and model), the request's earlier messages are stored as posted messages, and
the last user message is posted as a chat, all in one command (`StartChat`), so a refusal (a
quota, say) leaves no thread behind; with the header, that thread (the caller's) goes on
from its active leaf (a chat without `parent_id`), its active path being the context. The
thread id comes back in `X-Switchboard-Thread`. The `system` and `developer` messages are this
answer's instructions (after the thread type's prompt and any project or thread instructions),
never stored as messages; `temperature`, `top_p`, `max_tokens` / `max_completion_tokens` and
`stop` reach the provider, and any other parameter it cannot honour is refused (400 naming it).
Errors use OpenAI's shape `{"error": {message, type, param, code}}`: those raised in a route
here, and (through `v1_wire.error_response`) those the app's handlers and middlewares
answer for /v1 paths (unknown path, body too large, rate limits).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Annotated, Any
from uuid import UUID, uuid4

from fastapi import APIRouter, Header, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from contracts.commands import EarlierMessage, PostChat, StartChat
from contracts.queries import GetChatMessage, GetThreadAlone
from contracts.views import ThreadView
from gateway.answer_stream import AnswerStreamReader
from gateway.api.chat import post_and_subscribe, sse
from gateway.api.models import fetch_models
from gateway.bus import Bus, CodedError
from gateway.deps import BusDep, Meta, UserId, envelope
from gateway.v1_wire import (
    STREAM_ERROR_STATUS,
    Answer,
    CompletionIn,
    openai_error,
    split_model,
)

THREAD_HEADER = "X-Switchboard-Thread"
IDLE_CHECK = 5.0  # seconds without tokens before asking the threads service about the answer
SOURCE = {"source": "openai"}  # the metadata of the messages stored from a /v1 request


class OpenAIRoute(APIRoute):
    """Errors (auth, validation, domain) rendered in OpenAI's shape instead of `{"detail"}`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except StarletteHTTPException as exc:  # FastAPI's, and a body over the limit
                message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
                code = exc.code if isinstance(exc, CodedError) else None
                return openai_error(exc.status_code, message, code, headers=exc.headers)
            except RequestValidationError as exc:
                first = exc.errors()[0] if exc.errors() else {}
                where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
                message = f"{where}: {first.get('msg', 'invalid request')}".strip(": ")
                return openai_error(400, message, "invalid_request", param=where or None)

        return route


router = APIRouter(tags=["openai-compatible"], route_class=OpenAIRoute)


async def _thread(request: Request, bus: Bus, user_id: UUID, raw: str) -> ThreadView:
    try:
        thread_id = UUID(raw)
    except ValueError:
        raise HTTPException(404, "Thread not found") from None
    query = GetThreadAlone(meta=envelope(request, user_id), thread_id=thread_id)
    return await bus.call(query)


def _earlier(body: CompletionIn) -> list[EarlierMessage]:
    """The messages before the last, stored as posted; `system` and `developer` ones are this
    answer's instructions (PostChat), not messages of the thread."""
    return [
        EarlierMessage(message_id=uuid4(), role=m.role, content=m.text(), metadata=SOURCE)
        for m in body.messages[:-1]
        if m.role not in ("system", "developer")
    ]


async def _stream(
    request: Request,
    bus: Bus,
    user_id: UUID,
    thread_id: UUID,
    message_id: UUID,
    answer: Answer,
    reader: AnswerStreamReader,
    *,
    streamed: bool = True,
) -> AsyncIterator[bytes]:
    """Chunks as they come until the terminal one; while idle, the stored message is checked
    so an answer whose terminal event never arrives still ends. A check that fails ends a whole
    (non-streamed) answer with its error; a streamed one keeps waiting, as its headers are
    sent and a broken stream would tell the client less."""
    loop = asyncio.get_running_loop()
    try:
        yield answer.first()
        last_check = loop.time()
        while not answer.done or reader.pending:  # the terminal chunk may wait in the queue
            if await reader.open():
                chunk = await reader.next(IDLE_CHECK)
                if chunk is not None:
                    last_check = loop.time()
                    yield chunk
                    continue
            else:
                await asyncio.sleep(0.5)
            if loop.time() - last_check >= IDLE_CHECK:
                last_check = loop.time()
                query = GetChatMessage(
                    meta=envelope(request, user_id), thread_id=thread_id, message_id=message_id
                )
                try:
                    view = await bus.call(query)
                except HTTPException:
                    if not streamed:
                        raise  # a whole answer is refused with a clean 503
                    continue  # mid-stream (NATS away for a moment): ask again later
                if view.message.status != "streaming":
                    tail = await reader.next(0.5) if await reader.open() else None
                    yield tail if tail is not None else answer.finish_from(view)
    finally:
        await reader.close()


@router.post("/v1/chat/completions", summary="OpenAI-compatible chat completion (stream or not)")
async def chat_completions(
    body: CompletionIn,
    request: Request,
    bus: BusDep,
    user_id: UserId,
    thread_header: Annotated[str | None, Header(alias=THREAD_HEADER, max_length=64)] = None,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)] = None,
) -> Response:
    refused = body.refused_parameter()
    if refused is not None:
        message = f"Unsupported parameter: '{refused}' cannot be honoured by this server"
        return openai_error(400, message, "unsupported_parameter", param=refused)
    last = body.messages[-1]
    if last.role != "user" or not last.text():
        raise HTTPException(400, "The last message must be a non-empty user message")
    key = f"key:{idempotency_key}" if idempotency_key else None
    provider, model = split_model(body.model)
    chat: dict[str, Any] = {
        "meta": envelope(request, user_id),
        "command_id": f"{key}:chat" if key else str(uuid4()),
        "user_message_id": uuid4(),
        "assistant_message_id": uuid4(),
        "content": last.text(),
        "metadata": SOURCE,
        "options": body.options(),
        "instructions": body.instructions(),
    }
    cmd: PostChat
    if thread_header:
        thread = await _thread(request, bus, user_id, thread_header)
        cmd = PostChat(thread_id=thread.id, **chat)
        provider, model = thread.provider, thread.model
    else:  # the thread, the messages before and the chat in one transaction
        cmd = StartChat(
            thread_id=uuid4(),
            provider=provider,
            model=model,
            thread_type="assistant",
            agent_type="openai",
            earlier=_earlier(body),
            **chat,
        )
    answer = Answer(
        f"chatcmpl-{cmd.assistant_message_id.hex}",
        f"{provider}/{model}" if model else provider,
        include_usage=bool(body.stream_options and body.stream_options.include_usage),
    )

    def replied(started: dict[str, Any]) -> None:
        answer.id = f"chatcmpl-{UUID(started['message_id']).hex}"  # the first one's, on a replay
        answer.model = f"{started['provider']}/{started['model']}"  # a bare provider's, resolved

    started, reader = await post_and_subscribe(request, bus, cmd, answer.render, replied)
    message_id = UUID(started["message_id"])
    thread_id = UUID(started["thread_id"])
    headers = {THREAD_HEADER: str(thread_id)}
    events = _stream(
        request, bus, user_id, thread_id, message_id, answer, reader, streamed=body.stream
    )
    if body.stream:
        return sse(events, headers)
    async for _ in events:
        pass
    if answer.error is not None:
        code, message = answer.error
        status = STREAM_ERROR_STATUS.get(code, 502)
        return openai_error(status, message or code, code, headers=headers)
    return JSONResponse(answer.completion(), headers=headers)


@router.get("/v1/models", summary="OpenAI-compatible model list (`provider/model` ids)")
async def list_models(bus: BusDep, meta: Meta) -> dict[str, Any]:
    models = await fetch_models(bus, meta)
    return {
        "object": "list",
        "data": [
            {"id": f"{m.provider}/{m.id}", "object": "model", "created": 0, "owned_by": m.provider}
            for m in models.models
        ],
    }
