"""PostChat's chat-context push, through the unit of work on real Postgres and a real NATS
server: published once the command commits, before its events reach EVENTS, and exactly the
context the worker would have asked for; never for a user with a saved provider config (a push
reaches every worker and never carries a key), nor past its size limit.

The service is `wired` as `threads serve` wires it (see conftest)."""

from __future__ import annotations

import asyncio
import functools
import uuid

from nats.aio.msg import Msg
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts.base import Envelope
from contracts.commands import (
    AddDocument,
    CompleteAssistantMessage,
    ConfigureProvider,
    CreateThread,
    FailAssistantMessage,
    PostChat,
    PostMessage,
    RecordThreadSummary,
)
from contracts.subjects import chat_context_push_subject
from contracts.views import ChatContextView
from tests.integration.conftest import Wired
from threads.handlers import (
    add_document,
    complete_assistant_message,
    configure_provider,
    create_thread,
    fail_assistant_message,
    post_chat,
    post_message,
    record_thread_summary,
)
from threads.queries.chat import chat_context
from threads.service import ThreadsService
from threads.store.unit_of_work import C, Handler


async def _thread(service: ThreadsService, user_id: uuid.UUID, provider: str) -> uuid.UUID:
    thread_id = uuid.uuid4()
    reply = await service.uow.run(
        CreateThread(
            meta=Envelope(user_id=user_id),
            thread_id=thread_id,
            provider=provider,
            model="some-model",
        ),
        functools.partial(create_thread.handle, default_provider="echo"),
    )
    assert reply.ok, reply.error
    return thread_id


async def _post(
    service: ThreadsService,
    user_id: uuid.UUID,
    thread_id: uuid.UUID,
    *,
    limit: int = 256 * 1024,
    content: str = "What is in the notes?",
) -> PostChat:
    cmd = PostChat(
        meta=Envelope(user_id=user_id),
        thread_id=thread_id,
        user_message_id=uuid.uuid4(),
        assistant_message_id=uuid.uuid4(),
        content=content,
    )
    reply = await service.uow.run(cmd, functools.partial(post_chat.handle, push_max_bytes=limit))
    assert reply.ok, reply.error
    return cmd


async def _quiet(wired: Wired) -> None:
    """Once what earlier commands published has been heard, forget it."""
    seen = -1
    while seen != len(wired.heard):
        seen = len(wired.heard)
        await asyncio.sleep(0.1)
    wired.heard.clear()


async def _heard(wired: Wired, count: int) -> list[Msg]:
    for _ in range(200):
        if len(wired.heard) >= count:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.1)  # and nothing more
    return list(wired.heard)


async def test_the_context_is_pushed_before_the_events_and_equals_the_asked_one(
    wired: Wired, engine: AsyncEngine
) -> None:
    user_id = uuid.uuid4()
    thread_id = await _thread(wired.service, user_id, "openai")
    reply = await wired.service.uow.run(
        AddDocument(
            meta=Envelope(user_id=user_id),
            document_id=uuid.uuid4(),
            thread_id=thread_id,
            filename="notes.txt",
            content="NOTES-31",
        ),
        functools.partial(add_document.handle, max_bytes=1024 * 1024),
    )
    assert reply.ok, reply.error
    await _quiet(wired)
    cmd = await _post(wired.service, user_id, thread_id)

    heard = await _heard(wired, 3)
    assert [m.subject for m in heard] == [
        chat_context_push_subject(cmd.assistant_message_id),
        f"events.thread.{thread_id}.UserMessagePosted",
        f"events.thread.{thread_id}.AssistantMessageRequested",
    ]
    pushed = ChatContextView.model_validate_json(heard[0].data)
    async with engine.connect() as conn:
        asked = await chat_context(conn, user_id, thread_id, cmd.assistant_message_id)
    assert asked is not None
    assert pushed == ChatContextView.model_validate_json(asked.to_json())
    assert pushed.message_status == "streaming" and not pushed.cancel_requested
    assert [m.content for m in pushed.history] == ["What is in the notes?"]
    assert [d.content for d in pushed.documents] == ["NOTES-31"]
    assert pushed.credentials is None  # none saved: the deployment's settings apply


async def test_no_push_for_a_user_with_a_saved_config_for_the_provider(wired: Wired) -> None:
    user_id = uuid.uuid4()
    keyring = wired.service.settings.secret_keyring()
    reply = await wired.service.uow.run(
        ConfigureProvider(
            meta=Envelope(user_id=user_id),
            provider="openai",
            api_key="sk-users-own-key-0123456789",
            api_key_set=True,
        ),
        functools.partial(configure_provider.handle, keyring=keyring),
    )
    assert reply.ok, reply.error
    openai_thread = await _thread(wired.service, user_id, "openai")
    echo_thread = await _thread(wired.service, user_id, "echo")
    await _quiet(wired)

    await _post(wired.service, user_id, openai_thread)
    heard = await _heard(wired, 2)
    assert [m.subject.rpartition(".")[2] for m in heard] == [
        "UserMessagePosted",
        "AssistantMessageRequested",
    ]
    assert all(b"sk-users-own-key" not in m.data for m in heard)

    await _quiet(wired)
    cmd = await _post(wired.service, user_id, echo_thread)  # no config saved for echo
    heard = await _heard(wired, 3)
    assert heard[0].subject == chat_context_push_subject(cmd.assistant_message_id)


async def test_no_push_past_the_size_limit_and_none_when_disabled(wired: Wired) -> None:
    user_id = uuid.uuid4()
    thread_id = await _thread(wired.service, user_id, "openai")
    for limit in (100, 0):
        await _quiet(wired)
        await _post(wired.service, user_id, thread_id, limit=limit)
        heard = await _heard(wired, 2)
        assert [m.subject.rpartition(".")[2] for m in heard] == [
            "UserMessagePosted",
            "AssistantMessageRequested",
        ]


async def test_a_history_longer_than_the_limit_is_not_pushed_but_is_asked_whole(
    wired: Wired, engine: AsyncEngine
) -> None:
    """Its texts alone are over the limit: the push reads no history and sends nothing; the
    worker's own query still gets every message."""
    user_id = uuid.uuid4()
    thread_id = await _thread(wired.service, user_id, "openai")
    for i in range(6):
        reply = await wired.service.uow.run(
            PostMessage(
                meta=Envelope(user_id=user_id),
                thread_id=thread_id,
                message_id=uuid.uuid4(),
                role="user" if i % 2 == 0 else "assistant",
                content=f"{i} " + "x" * 1000,
            ),
            post_message.handle,
        )
        assert reply.ok, reply.error
    await _quiet(wired)
    cmd = await _post(wired.service, user_id, thread_id, limit=4000)  # 6,000 bytes of text
    heard = await _heard(wired, 2)
    assert [m.subject.rpartition(".")[2] for m in heard] == [
        "UserMessagePosted",
        "AssistantMessageRequested",
    ]
    async with engine.connect() as conn:
        found = await chat_context(conn, user_id, thread_id, cmd.assistant_message_id)
    assert found is not None
    asked = ChatContextView.model_validate_json(found.to_json())
    assert [m.content[0] for m in asked.history] == ["0", "1", "2", "3", "4", "5", "W"]

    await _quiet(wired)
    cmd = await _post(wired.service, user_id, thread_id, limit=64 * 1024)  # within it: pushed
    heard = await _heard(wired, 3)
    assert heard[0].subject == chat_context_push_subject(cmd.assistant_message_id)
    assert len(ChatContextView.model_validate_json(heard[0].data).history) == 8


async def test_the_history_leaves_out_answers_with_nothing_to_send(
    wired: Wired, engine: AsyncEngine
) -> None:
    """A failed answer and an empty one are not in the history (their questions are), and the
    summary given is the one through the deepest message that is."""
    service, user_id = wired.service, uuid.uuid4()
    thread_id = await _thread(service, user_id, "echo")
    meta = Envelope(user_id=user_id)

    async def run(cmd: C, handler: Handler[C]) -> None:
        reply = await service.uow.run(cmd, handler)
        assert reply.ok, reply.error

    async def complete(chat: PostChat, content: str) -> None:
        done = CompleteAssistantMessage(
            meta=meta,
            thread_id=thread_id,
            message_id=chat.assistant_message_id,
            content=content,
            finish_reason="stop",
        )
        await run(done, complete_assistant_message.handle)

    first = await _post(service, user_id, thread_id, content="q1")
    failed = FailAssistantMessage(
        meta=meta,
        thread_id=thread_id,
        message_id=first.assistant_message_id,
        code="provider_error",
        error="boom",
        content="half an answ",
    )
    await run(failed, fail_assistant_message.handle)
    await complete(await _post(service, user_id, thread_id, content="q2"), "")
    await complete(await _post(service, user_id, thread_id, content="q3"), "a3")
    for through, text in ((first.user_message_id, "to q1"), (first.assistant_message_id, "x")):
        summary = RecordThreadSummary(
            meta=meta,
            thread_id=thread_id,
            through_message_id=through,
            text=text,
            summarized_messages=1,
        )
        await run(summary, record_thread_summary.handle)
    last = await _post(service, user_id, thread_id, content="q4")

    async with engine.connect() as conn:
        found = await chat_context(conn, user_id, thread_id, last.assistant_message_id)
    assert found is not None
    asked = ChatContextView.model_validate_json(found.to_json())
    assert [m.content for m in asked.history] == ["q1", "q2", "q3", "a3", "q4"]
    assert asked.summary is not None and asked.summary.text == "to q1"
    assert asked.message is not None and asked.message.id == last.assistant_message_id
    assert asked.message_status == "streaming"
