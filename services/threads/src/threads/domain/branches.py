"""The tree commands: regenerate an answer, edit a question, switch branch, fork, delete a
subtree. Nothing is overwritten: a regenerated answer or an edited question is a new sibling,
and a new message becomes the active leaf.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid5

from contracts.base import DomainEvent
from contracts.commands import EditMessage, ForkThread, RegenerateAnswer
from contracts.events import (
    ActiveLeafSet,
    MessageDeleted,
    MessagePosted,
    ThreadCreated,
)
from contracts.providers import ECHO_MODELS
from contracts.views import ForkedFrom, MessageRole
from threads.domain.chat import decide_post_chat, request_answer
from threads.domain.errors import conflict, invalid, not_found
from threads.domain.text import require_text
from threads.domain.thread import ThreadState, require_owned
from threads.domain.tree import Node, Tree, require_not_streaming

# The models a provider is known to have, where the list is closed; others take any name.
KNOWN_MODELS: dict[str, tuple[str, ...]] = {"echo": ECHO_MODELS}


def parent_for(asked: UUID | None, node: Node | None, active_leaf: UUID | None) -> UUID | None:
    """A new message's parent: the message asked for (it must be this thread's), else the
    active leaf."""
    if asked is None:
        return active_leaf
    if node is None:
        raise not_found("Message")
    return node.id


def _model(thread: ThreadState, asked: str | None) -> str:
    if asked is None:
        return thread.model
    model = require_text(asked, "model").strip()
    known = KNOWN_MODELS.get(thread.provider)
    if not model or (known is not None and model not in known):
        raise invalid(f"Unknown model for provider {thread.provider}: {asked!r}")
    return model


def decide_regenerate(
    state: ThreadState | None,
    cmd: RegenerateAnswer,
    *,
    user_id: UUID | None,
    node: Node | None,
    streaming: bool,
) -> list[DomainEvent]:
    """A new answer beside `node` (an answer), to the same question; the provider stays."""
    thread = require_owned(state, user_id)
    assert user_id is not None
    if node is None:
        raise not_found("Message")
    if node.role != "assistant":
        raise invalid("Only an assistant message can be regenerated")
    if node.parent_id is None:
        raise invalid("This answer follows no question")
    require_not_streaming(streaming)
    if cmd.assistant_message_id == node.id:
        raise invalid("The new answer needs a new id")
    return [request_answer(thread, cmd, user_id, node.parent_id, _model(thread, cmd.model))]


def decide_edit(
    state: ThreadState | None,
    cmd: EditMessage,
    *,
    user_id: UUID | None,
    node: Node | None,
    streaming: bool,
) -> list[DomainEvent]:
    """A new question beside `node` (a question), and the request for its answer."""
    require_owned(state, user_id)
    if node is None:
        raise not_found("Message")
    if node.role != "user":
        raise invalid("Only a user message can be edited")
    require_not_streaming(streaming)
    if node.id in (cmd.user_message_id, cmd.assistant_message_id):
        raise invalid("The edited message needs new ids")
    return decide_post_chat(state, cmd, user_id=user_id, parent_id=node.parent_id)


def decide_set_active_leaf(
    state: ThreadState | None, message_id: UUID, *, user_id: UUID | None, tree: Tree
) -> list[DomainEvent]:
    """The path to the message, then the newest child at each level; no event if the active
    path already ends there."""
    thread = require_owned(state, user_id)
    tree.node(message_id)
    leaf = tree.newest_leaf(message_id)
    assert leaf is not None
    if leaf == tree.active_leaf:
        return []
    return [ActiveLeafSet(thread_id=thread.thread_id, message_id=leaf)]


def decide_delete_message(
    state: ThreadState | None, message_id: UUID, *, user_id: UUID | None, tree: Tree
) -> list[DomainEvent]:
    """The message and its subtree go. If the active leaf went with them, the active path
    moves to the message's parent and, below it, the newest remaining branch."""
    thread = require_owned(state, user_id)
    node = tree.node(message_id)
    gone = tree.subtree(message_id)
    moved = tree.active_leaf in gone
    leaf = tree.without(set(gone)).newest_leaf(node.parent_id) if moved else None
    return [
        MessageDeleted(
            message_id=message_id,
            thread_id=thread.thread_id,
            below=gone[1:],
            active_leaf_moved=moved,
            active_leaf_id=leaf,
        )
    ]


def copy_id(new_thread_id: UUID, source_id: UUID) -> UUID:
    """A copy's id, the same on every rerun of the fork."""
    return uuid5(new_thread_id, str(source_id))


@dataclass(frozen=True)
class Original:
    """A message a fork copies, as the read model holds it."""

    id: UUID
    role: MessageRole
    content: str
    artifact_data: dict[str, Any] | None
    metadata: dict[str, Any] | None
    provider: str | None
    model: str | None
    usage: dict[str, Any] | None
    status: str


def decide_fork(
    source: ThreadState | None,
    target: ThreadState | None,
    cmd: ForkThread,
    *,
    user_id: UUID | None,
    project_id: UUID | None,
    path: list[Original],
) -> list[DomainEvent]:
    """A new thread bound like the source (provider, model, project, type, instructions)
    holding copies of `path` (the messages from the root to `cmd.message_id`, root first)."""
    thread = require_owned(source, user_id)
    assert user_id is not None
    if target is not None:
        raise conflict("Thread already exists")
    if not path or path[-1].id != cmd.message_id:
        raise not_found("Message")
    if any(m.status == "streaming" for m in path):
        raise conflict("An answer on this path is still streaming")
    created = ThreadCreated(
        thread_id=cmd.new_thread_id,
        user_id=user_id,
        project_id=project_id,
        title=thread.title,
        provider=thread.provider,
        model=thread.model,
        thread_type=thread.thread_type,
        agent_type=thread.agent_type,
        forked_from=ForkedFrom(thread_id=thread.thread_id, message_id=cmd.message_id),
        instructions=thread.instructions,
    )
    events: list[DomainEvent] = [created]
    parent: UUID | None = None
    for m in path:
        copy = copy_id(cmd.new_thread_id, m.id)
        events.append(
            MessagePosted(
                message_id=copy,
                thread_id=cmd.new_thread_id,
                role=m.role,
                content=m.content,
                artifact_data=m.artifact_data,
                metadata=m.metadata,
                parent_id=parent,
                provider=m.provider,
                model=m.model,
                usage=m.usage,
                status=m.status,  # type: ignore[arg-type]  # never streaming (refused above)
            )
        )
        parent = copy
    return events
