"""What a command handler loads before it decides: an aggregate's stream, version and state.

Writers of one thread or project queue up on its stream's lock (see `store.locks`), then read
its events. For a chat outcome, one query reads the thread's own events and this message's
lifecycle events (filtered in SQL by message id, however long the thread): those commands sit
on the path of every answer.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import String, bindparam, or_

from threads.domain import branches, chat, project, thread
from threads.domain import provider_settings as settings
from threads.store.locks import LockedRead, load_locked, lock_stream
from threads.store.tables import events
from threads.store.tree_loads import tree_facts
from threads.store.unit_of_work import HandlerContext

_THREAD_STATE = LockedRead.of(events.c.event_type.in_(thread.STATE_EVENTS))
# The thread's own events and one answer's lifecycle events.
_ANSWER = LockedRead.of(
    or_(
        events.c.event_type.in_(thread.STATE_EVENTS),
        events.c.event_type.in_(chat.ANSWER_EVENTS)
        & (events.c.data["message_id"].astext == bindparam("message_id", type_=String())),
    )
)


async def load_thread_for_write(
    ctx: HandlerContext[Any], thread_id: UUID
) -> tuple[str, int, thread.ThreadState | None]:
    """Queue behind other writers of the thread, then load its state: (stream, version, state)."""
    stream = thread.stream_id(thread_id)
    version, stored = await load_locked(ctx.conn, _THREAD_STATE, stream)
    return stream, version, thread.fold([e.to_domain() for e in stored])


async def load_owned_thread(
    ctx: HandlerContext[Any], thread_id: UUID
) -> tuple[str, int, thread.ThreadState]:
    """`load_thread_for_write` for the caller's own thread: another user's, or none, is not
    found."""
    stream, version, state = await load_thread_for_write(ctx, thread_id)
    return stream, version, thread.require_owned(state, ctx.command.meta.user_id)


async def load_to_post(
    ctx: HandlerContext[Any], thread_id: UUID, parent_id: UUID | None
) -> tuple[str, int, thread.ThreadState, UUID | None]:
    """For a new message of the user's own thread (another user's, or none: not found):
    (stream, version, state, the message it goes below), read under the stream's lock."""
    stream, version, owned = await load_owned_thread(ctx, thread_id)
    facts = await tree_facts(ctx.conn, thread_id, parent_id)
    parent = branches.parent_for(parent_id, facts.node, facts.active_leaf_id)
    return stream, version, owned, parent


async def load_for_answer(
    ctx: HandlerContext[Any], thread_id: UUID, message_id: UUID
) -> tuple[str, int, thread.ThreadState | None, chat.AnswerState | None]:
    """(stream id, version, thread state, answer state), under the stream's lock."""
    stream = thread.stream_id(thread_id)
    version, loaded = await load_locked(ctx.conn, _ANSWER, stream, message_id=str(message_id))
    state = thread.fold([e.to_domain() for e in loaded if e.type in thread.STATE_EVENTS])
    answer = chat.fold_answer([e.to_domain() for e in loaded if e.type in chat.ANSWER_EVENTS])
    return stream, version, state, answer


async def load_project_for_write(
    ctx: HandlerContext[Any], project_id: UUID
) -> tuple[str, int, project.ProjectState | None]:
    """Queue behind other writers of the project, then load its state."""
    stream = project.stream_id(project_id)
    await lock_stream(ctx.conn, stream)
    version, stored = await ctx.load(stream)
    return stream, version, project.fold([e.to_domain() for e in stored])


async def load_provider_settings(
    ctx: HandlerContext[Any], user_id: UUID
) -> tuple[str, int, settings.ProviderSettingsState]:
    """The user's provider settings (no lock: a stale version reruns the command)."""
    stream = settings.stream_id(user_id)
    version, stored = await ctx.load(stream)
    return stream, version, settings.fold([e.to_domain() for e in stored])
