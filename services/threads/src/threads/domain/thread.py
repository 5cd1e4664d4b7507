"""The thread aggregate (stream `thread-<id>`): binding, title, project, lifecycle, messages."""

from __future__ import annotations

from dataclasses import dataclass, replace
from uuid import UUID

from contracts.base import DomainEvent
from contracts.commands import CreateThread
from contracts.events import ThreadCreated, ThreadDeleted, ThreadMoved, ThreadRenamed
from contracts.providers import (
    DEFAULT_THREAD_TYPE,
    PROVIDERS,
    THREAD_TYPES,
    invalid_provider_detail,
)
from threads.domain.errors import conflict, invalid, not_found

DEFAULT_TITLE = "New Chat"
# Only these change the thread's own state; message events are left out when loading it.
STATE_EVENTS = ("ThreadCreated", "ThreadRenamed", "ThreadMoved", "ThreadDeleted")


def stream_id(thread_id: object) -> str:
    return f"thread-{thread_id}"


@dataclass(frozen=True)
class ThreadState:
    thread_id: UUID
    user_id: UUID
    project_id: UUID | None
    title: str
    provider: str
    model: str
    deleted: bool = False


def evolve(state: ThreadState | None, event: DomainEvent) -> ThreadState | None:
    match event:
        case ThreadCreated():
            return ThreadState(
                event.thread_id,
                event.user_id,
                event.project_id,
                event.title,
                event.model_provider,
                event.model,
            )
        case ThreadRenamed() if state is not None:
            return replace(state, title=event.title)
        case ThreadMoved() if state is not None:
            return replace(state, project_id=event.to_project_id)
        case ThreadDeleted() if state is not None:
            return replace(state, deleted=True)
    return state


def fold(events: list[DomainEvent]) -> ThreadState | None:
    state: ThreadState | None = None
    for event in events:
        state = evolve(state, event)
    return state


def require_owned(state: ThreadState | None, user_id: UUID | None) -> ThreadState:
    """Another user's thread is indistinguishable from a missing one."""
    if state is None or state.deleted or state.user_id != user_id:
        raise not_found("Thread")
    return state


def decide_create(
    state: ThreadState | None,
    cmd: CreateThread,
    *,
    user_id: UUID,
    default_provider: str,
    routed_model: str | None,
) -> list[ThreadCreated]:
    """`routed_model` is the user's `chat` task route for the chosen provider, if any."""
    if state is not None:
        raise conflict("Thread already exists")
    provider = cmd.model_provider or default_provider
    if provider not in PROVIDERS:
        raise invalid(invalid_provider_detail())
    thread_type = cmd.thread_type or DEFAULT_THREAD_TYPE
    if thread_type not in THREAD_TYPES:
        raise invalid(f"Invalid thread_type. Valid options: {', '.join(THREAD_TYPES)}")
    model = cmd.model or routed_model or PROVIDERS[provider].default_model
    return [
        ThreadCreated(
            thread_id=cmd.thread_id,
            user_id=user_id,
            project_id=cmd.project_id,
            title=(cmd.title or "").strip() or DEFAULT_TITLE,
            model_provider=provider,
            model=model,
            thread_type=thread_type,
            agent_type=cmd.agent_type or "chat",
        )
    ]
