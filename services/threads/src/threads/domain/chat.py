"""Chat on the thread aggregate: a user turn, and the lifecycle of the answer it asks for.

An assistant message is requested (status `streaming`) and then finishes exactly once:
completed, failed or cancelled. A second outcome is refused, so an answer is never stored
twice even when two workers raced for it. A cancel request is recorded only while the answer
is still streaming. Pure functions: the handlers load the events and append what these decide.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import reduce
from typing import Any, Literal
from uuid import UUID

from contracts.base import DomainEvent
from contracts.commands import (
    CompleteAssistantMessage,
    EditMessage,
    FailAssistantMessage,
    PostChat,
    RecordCancelledMessage,
    RegenerateAnswer,
)
from contracts.errors import ErrorCode
from contracts.events import (
    AssistantMessageCancelled,
    AssistantMessageCompleted,
    AssistantMessageFailed,
    AssistantMessageRequested,
    GenerationCancelled,
    ThreadRenamed,
    UserMessagePosted,
)
from contracts.text import DEFAULT_TITLE
from threads.domain.errors import DomainError, invalid, not_found
from threads.domain.text import require_json, require_options, require_text
from threads.domain.thread import (
    CONTENT_MAX,
    TITLE_MAX,
    ThreadState,
    require_owned,
    storable_message,
)

AnswerStatus = Literal["streaming", "complete", "failed", "cancelled"]
# The events of one thread stream that move an assistant message's lifecycle.
ANSWER_EVENTS = (
    "AssistantMessageRequested",
    "AssistantMessageCompleted",
    "AssistantMessageFailed",
    "AssistantMessageCancelled",
    "GenerationCancelled",
)
ALREADY_FINISHED = "Assistant message already finished"


@dataclass(frozen=True)
class AnswerState:
    message_id: UUID
    status: AnswerStatus = "streaming"
    cancel_requested: bool = False
    provider: str = ""  # what the answer was asked of (a regenerate may name another model)
    model: str = ""


def evolve_answer(state: AnswerState | None, event: DomainEvent) -> AnswerState | None:
    match event:
        case AssistantMessageRequested():
            return AnswerState(event.message_id, provider=event.provider, model=event.model)
        case AssistantMessageCompleted() if state is not None:
            return replace(state, status="complete")
        case AssistantMessageFailed() if state is not None:
            return replace(state, status="failed")
        case AssistantMessageCancelled() if state is not None:
            return replace(state, status="cancelled")
        case GenerationCancelled() if state is not None:
            return replace(state, cancel_requested=True)
    return state


def fold_answer(events: list[DomainEvent]) -> AnswerState | None:
    return reduce(evolve_answer, events, None)


def decide_post_chat(
    state: ThreadState | None,
    cmd: PostChat | EditMessage,
    *,
    user_id: UUID | None,
    parent_id: UUID | None = None,
) -> list[DomainEvent]:
    """The user's turn (below `parent_id`) and the request for its answer, appended together:
    a worker never sees a request without its question, and a question is never left without
    a request."""
    thread = require_owned(state, user_id)
    assert user_id is not None
    if not cmd.content.strip():
        raise invalid("content must not be empty")
    if len(cmd.content) > CONTENT_MAX:
        raise invalid(f"content is longer than {CONTENT_MAX} characters")
    if cmd.user_message_id == cmd.assistant_message_id:
        raise invalid("user and assistant message ids must differ")
    instructions = cmd.instructions if isinstance(cmd, PostChat) else None
    if instructions is not None and len(instructions) > CONTENT_MAX:
        raise invalid(f"instructions are longer than {CONTENT_MAX} characters")
    return [
        UserMessagePosted(
            message_id=cmd.user_message_id,
            thread_id=thread.thread_id,
            parent_id=parent_id,
            **storable_message(cmd),
        ),
        request_answer(
            thread,
            cmd,
            user_id,
            cmd.user_message_id,
            thread.model,
            instructions=require_text(instructions, "instructions") if instructions else None,
        ),
    ]


def request_answer(
    thread: ThreadState,
    cmd: PostChat | EditMessage | RegenerateAnswer,
    user_id: UUID,
    question_id: UUID,
    model: str,
    instructions: str | None = None,
) -> AssistantMessageRequested:
    """The first attempt's request for `cmd`'s new answer to `question_id`, from the thread's
    provider: what a chat, an edit and a regenerate all end with."""
    return AssistantMessageRequested(
        message_id=cmd.assistant_message_id,
        thread_id=thread.thread_id,
        user_id=user_id,
        user_message_id=question_id,
        provider=thread.provider,
        model=model,
        attempt=1,
        options=require_options(cmd.options),
        instructions=instructions,
    )


def _require_streaming(answer: AnswerState | None) -> AnswerState:
    if answer is None:
        raise not_found("Message")
    if answer.status != "streaming":
        raise DomainError(ErrorCode.CONFLICT, ALREADY_FINISHED)
    return answer


Outcome = CompleteAssistantMessage | FailAssistantMessage | RecordCancelledMessage


def decide_outcome(
    thread: ThreadState | None,
    answer: AnswerState | None,
    cmd: Outcome,
    *,
    user_id: UUID | None,
) -> list[DomainEvent]:
    """An answer's one outcome (completed, failed or cancelled): only a streaming answer in the
    user's own thread gets one, so an answer is never stored twice."""
    require_owned(thread, user_id)
    _require_streaming(answer)
    content = require_text(cmd.content, "content")
    assert thread is not None and answer is not None
    common: dict[str, Any] = {
        "message_id": cmd.message_id,
        "thread_id": cmd.thread_id,
        "content": content,
        "attempt": cmd.attempt,
        "reasoning": require_text(cmd.reasoning, "reasoning") if cmd.reasoning else None,
        "usage": require_json(cmd.usage, "usage"),
        # the usage ledger's keys, as they are now: moving the thread later changes no history
        "user_id": thread.user_id,
        "provider": answer.provider,
        "model": answer.model,
        "project_id": thread.project_id,
    }
    event: DomainEvent
    if isinstance(cmd, CompleteAssistantMessage):
        event = AssistantMessageCompleted(
            **common,
            finish_reason=cmd.finish_reason,
            metadata=require_json(cmd.metadata, "metadata"),
        )
    elif isinstance(cmd, FailAssistantMessage):
        event = AssistantMessageFailed(
            **common, code=cmd.code, error=require_text(cmd.error, "error")
        )
    else:
        event = AssistantMessageCancelled(**common)
    return [event]


def decide_cancel(
    thread: ThreadState | None,
    answer: AnswerState | None,
    message_id: UUID,
    *,
    user_id: UUID | None,
) -> list[DomainEvent]:
    """Only a streaming answer can be cancelled; asking again, or after it finished, is a
    no-op rather than an error (the client may race the end of the stream)."""
    current = require_owned(thread, user_id)
    if answer is None:
        raise not_found("Message")
    if answer.status != "streaming" or answer.cancel_requested:
        return []
    return [GenerationCancelled(message_id=message_id, thread_id=current.thread_id)]


def clean_title(raw: str) -> str:
    title = " ".join(raw.split())
    return title[:TITLE_MAX].rstrip()


def decide_set_generated_title(
    thread: ThreadState | None,
    title: str,
    *,
    user_id: UUID | None,
    provider: str | None = None,
    model: str | None = None,
    usage: dict[str, Any] | None = None,
) -> list[DomainEvent]:
    """A generated title never overwrites one the user chose (or an earlier generated one)."""
    current = require_owned(thread, user_id)
    cleaned = clean_title(require_text(title, "title"))
    if not cleaned:
        raise invalid("Title must not be empty")
    if current.title != DEFAULT_TITLE:
        return []
    return [
        ThreadRenamed(
            thread_id=current.thread_id,
            title=cleaned,
            generated=True,
            provider=provider,
            model=model,
            usage=require_json(usage, "usage"),
            user_id=current.user_id,
            project_id=current.project_id,
        )
    ]
