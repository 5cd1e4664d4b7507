"""The assistant-message lifecycle decisions (threads.domain.chat), without I/O."""

from __future__ import annotations

import uuid

import pytest

from contracts.commands import (
    CompleteAssistantMessage,
    FailAssistantMessage,
    PostChat,
    RecordCancelledMessage,
)
from contracts.errors import ErrorCode
from contracts.events import (
    AssistantMessageCompleted,
    AssistantMessageRequested,
    GenerationCancelled,
    ThreadRenamed,
    UserMessagePosted,
)
from threads.domain import chat
from threads.domain.errors import DomainError
from threads.domain.thread import ThreadState

USER = uuid.uuid4()
THREAD = ThreadState(uuid.uuid4(), USER, None, "New Chat", "openai", "gpt-fake")


def post(content: str = "Hello") -> PostChat:
    return PostChat(
        thread_id=THREAD.thread_id,
        user_message_id=uuid.uuid4(),
        assistant_message_id=uuid.uuid4(),
        content=content,
    )


def requested(message_id: uuid.UUID) -> chat.AnswerState | None:
    return chat.fold_answer(
        [
            AssistantMessageRequested(
                message_id=message_id,
                thread_id=THREAD.thread_id,
                user_id=USER,
                user_message_id=uuid.uuid4(),
                provider="openai",
                model="gpt-fake",
            )
        ]
    )


def complete(message_id: uuid.UUID) -> CompleteAssistantMessage:
    return CompleteAssistantMessage(
        thread_id=THREAD.thread_id, message_id=message_id, content="Hi", finish_reason="stop"
    )


def test_posting_asks_for_an_answer_in_the_same_append() -> None:
    cmd = post()
    user_turn, request = chat.decide_post_chat(THREAD, cmd, user_id=USER)
    assert isinstance(user_turn, UserMessagePosted) and user_turn.content == "Hello"
    assert isinstance(request, AssistantMessageRequested)
    assert request.message_id == cmd.assistant_message_id
    assert request.user_message_id == cmd.user_message_id
    assert (request.provider, request.model, request.attempt) == ("openai", "gpt-fake", 1)


def test_posting_to_another_users_thread_is_not_found() -> None:
    with pytest.raises(DomainError) as caught:
        chat.decide_post_chat(THREAD, post(), user_id=uuid.uuid4())
    assert caught.value.code == ErrorCode.NOT_FOUND


@pytest.mark.parametrize("content", ["   ", "nul\x00byte"])
def test_unstorable_or_empty_content_is_invalid(content: str) -> None:
    with pytest.raises(DomainError) as caught:
        chat.decide_post_chat(THREAD, post(content), user_id=USER)
    assert caught.value.code == ErrorCode.INVALID


def test_an_answer_is_completed_once() -> None:
    message_id = uuid.uuid4()
    answer = requested(message_id)
    [done] = chat.decide_outcome(THREAD, answer, complete(message_id), user_id=USER)
    assert isinstance(done, AssistantMessageCompleted)
    finished = chat.evolve_answer(answer, done)
    with pytest.raises(DomainError) as caught:
        chat.decide_outcome(THREAD, finished, complete(message_id), user_id=USER)
    assert (caught.value.code, caught.value.detail) == (ErrorCode.CONFLICT, chat.ALREADY_FINISHED)
    fail = FailAssistantMessage(
        thread_id=THREAD.thread_id, message_id=message_id, code="provider_error", error="x"
    )
    with pytest.raises(DomainError):
        chat.decide_outcome(THREAD, finished, fail, user_id=USER)
    cancelled = RecordCancelledMessage(
        thread_id=THREAD.thread_id, message_id=message_id, content=""
    )
    with pytest.raises(DomainError):
        chat.decide_outcome(THREAD, finished, cancelled, user_id=USER)


def test_completing_an_unknown_message_is_not_found() -> None:
    with pytest.raises(DomainError) as caught:
        chat.decide_outcome(THREAD, None, complete(uuid.uuid4()), user_id=USER)
    assert caught.value.code == ErrorCode.NOT_FOUND


def test_cancel_is_recorded_once_and_only_while_streaming() -> None:
    message_id = uuid.uuid4()
    answer = requested(message_id)
    [cancel] = chat.decide_cancel(THREAD, answer, message_id, user_id=USER)
    assert isinstance(cancel, GenerationCancelled)
    asked = chat.evolve_answer(answer, cancel)
    assert asked is not None and asked.cancel_requested and asked.status == "streaming"
    assert chat.decide_cancel(THREAD, asked, message_id, user_id=USER) == []
    [done] = chat.decide_outcome(THREAD, answer, complete(message_id), user_id=USER)
    assert (
        chat.decide_cancel(THREAD, chat.evolve_answer(answer, done), message_id, user_id=USER) == []
    )


def test_generated_title_only_replaces_new_chat() -> None:
    [renamed] = chat.decide_set_generated_title(THREAD, "  Roadmap\n planning ", user_id=USER)
    assert isinstance(renamed, ThreadRenamed)
    assert (renamed.title, renamed.generated) == ("Roadmap planning", True)
    named = ThreadState(THREAD.thread_id, USER, None, "Mine", "openai", "gpt-fake")
    assert chat.decide_set_generated_title(named, "Other", user_id=USER) == []
    with pytest.raises(DomainError):
        chat.decide_set_generated_title(THREAD, "   ", user_id=USER)
