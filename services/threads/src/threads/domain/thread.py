"""The thread aggregate (stream `thread-<id>`): binding, title, project, lifecycle, messages."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import reduce
from typing import Any
from uuid import UUID

from contracts.base import DomainEvent
from contracts.commands import CreateThread, PostMessage, UpdateThread
from contracts.events import (
    MessagePosted,
    ThreadContextConfigured,
    ThreadCreated,
    ThreadDeleted,
    ThreadInstructionsSet,
    ThreadMoved,
    ThreadRenamed,
)
from contracts.providers import (
    DEFAULT_THREAD_TYPE,
    PROVIDERS,
    THREAD_TYPES,
    invalid_provider_detail,
)
from contracts.text import DEFAULT_TITLE
from threads.domain.errors import conflict, invalid, not_found
from threads.domain.text import require_instructions, require_json, require_text

TITLE_MAX = 255
AGENT_TYPE_MAX = 50
CONTENT_MAX = 1_000_000
# Only these change the thread's own state; message events are left out when loading it.
STATE_EVENTS = (
    "ThreadCreated",
    "ThreadRenamed",
    "ThreadMoved",
    "ThreadDeleted",
    "ThreadContextConfigured",
    "ThreadInstructionsSet",
)


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
    thread_type: str = ""
    agent_type: str = ""
    context_window: int | None = None  # ThreadContextConfigured (threads.domain.context)
    context_policy: str = "truncate"
    instructions: str | None = None


def evolve(state: ThreadState | None, event: DomainEvent) -> ThreadState | None:
    match event:
        case ThreadCreated():
            return ThreadState(
                event.thread_id,
                event.user_id,
                event.project_id,
                event.title,
                event.provider,
                event.model,
                thread_type=event.thread_type,
                agent_type=event.agent_type,
                instructions=event.instructions,
            )
        case ThreadRenamed() if state is not None:
            return replace(state, title=event.title)
        case ThreadMoved() if state is not None:
            return replace(state, project_id=event.to_project_id)
        case ThreadDeleted() if state is not None:
            return replace(state, deleted=True)
        case ThreadInstructionsSet() if state is not None:
            return replace(state, instructions=event.instructions)
        case ThreadContextConfigured() if state is not None:
            return replace(
                state, context_window=event.context_window, context_policy=event.context_policy
            )
    return state


def fold(events: list[DomainEvent]) -> ThreadState | None:
    return reduce(evolve, events, None)


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
    provider = cmd.provider or default_provider
    if provider not in PROVIDERS:
        raise invalid(invalid_provider_detail())
    thread_type = cmd.thread_type or DEFAULT_THREAD_TYPE
    if thread_type not in THREAD_TYPES:
        raise invalid(f"Invalid thread_type. Valid options: {', '.join(THREAD_TYPES)}")
    model = cmd.model or routed_model or PROVIDERS[provider].default_model
    agent_type = cmd.agent_type or "chat"
    if len(agent_type) > AGENT_TYPE_MAX:
        raise invalid(f"agent_type is longer than {AGENT_TYPE_MAX} characters")
    return [
        ThreadCreated(
            thread_id=cmd.thread_id,
            user_id=user_id,
            project_id=cmd.project_id,
            title=_title(cmd.title or "") or DEFAULT_TITLE,
            provider=provider,
            model=require_text(model, "model"),
            thread_type=thread_type,
            agent_type=require_text(agent_type, "agent_type"),
            instructions=require_instructions(cmd.instructions),
        )
    ]


def _title(raw: str) -> str:
    title = require_text(raw, "title").strip()
    if len(title) > TITLE_MAX:
        raise invalid(f"Title is longer than {TITLE_MAX} characters")
    return title


def decide_update(
    state: ThreadState | None,
    cmd: UpdateThread,
    *,
    user_id: UUID | None,
    current_project_id: UUID | None,
) -> list[DomainEvent]:
    """Rename, move and/or set the instructions. `current_project_id` is the project the
    thread is in now (the read model's: a deleted project leaves its threads project-less
    without a thread event). The target project's ownership is checked by the handler.
    Nothing changes → no events."""
    current = require_owned(state, user_id)
    changes: list[DomainEvent] = []
    if cmd.title is not None:
        title = _title(cmd.title)
        if not title:
            raise invalid("Title must not be empty")
        if title != current.title:
            changes.append(ThreadRenamed(thread_id=current.thread_id, title=title))
    if cmd.move and cmd.project_id != current_project_id:
        changes.append(
            ThreadMoved(
                thread_id=current.thread_id,
                from_project_id=current_project_id,
                to_project_id=cmd.project_id,
            )
        )
    if cmd.instructions_set:
        instructions = require_instructions(cmd.instructions)
        if instructions != current.instructions:
            changes.append(
                ThreadInstructionsSet(thread_id=current.thread_id, instructions=instructions)
            )
    return changes


def decide_delete(state: ThreadState | None, *, user_id: UUID | None) -> list[ThreadDeleted]:
    current = require_owned(state, user_id)
    return [ThreadDeleted(thread_id=current.thread_id)]


def decide_post_message(
    state: ThreadState | None,
    cmd: PostMessage,
    *,
    user_id: UUID | None,
    parent_id: UUID | None = None,
) -> list[MessagePosted]:
    """A message stored as given, below `parent_id`: no generation."""
    current = require_owned(state, user_id)
    if len(cmd.content) > CONTENT_MAX:
        raise invalid(f"content is longer than {CONTENT_MAX} characters")
    return [
        MessagePosted(
            message_id=cmd.message_id,
            thread_id=current.thread_id,
            role=cmd.role,
            parent_id=parent_id,
            **storable_message(cmd),
        )
    ]


def storable_message(cmd: Any) -> dict[str, Any]:
    """A new message's content, artifact data and metadata as its command gives them, refused
    (400) if PostgreSQL could not store them: a posted message's, a chat's, an edit's."""
    return {
        "content": require_text(cmd.content, "content"),
        "artifact_data": require_json(cmd.artifact_data, "artifact_data"),
        "metadata": require_json(cmd.metadata, "metadata"),
    }
