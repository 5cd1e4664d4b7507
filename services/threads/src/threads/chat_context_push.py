"""The chat-context push of every command asking for an answer (PostChat, RegenerateAnswer,
EditMessage), all of it: what is pushed, when, and on which subject.

The context a chat worker would ask for (`qry.chat.context`) is read in the command's own
transaction and published on core NATS (`push.chat.context.<message id>`) once it commits, so
the worker that gets the answer request has it without asking: one round trip and a query
fewer before the first token. The rules:

- a hint, never the record: nobody may be listening, and a lost push only costs its worker
  the query it would have saved;
- never for a user with a saved config for the thread's provider: a push reaches every worker,
  so it never carries an API key (that user's worker asks instead);
- never past `max_bytes` (`THREADS_CONTEXT_PUSH_MAX_BYTES`; 0 never pushes): a context with
  large documents is asked for;
- on the wire before the command's events: the unit of work hands its announcements to
  `publisher`'s hook before its events to the relay's, each hook schedules one task, and
  asyncio runs tasks in the order they were scheduled, so on the one NATS connection the push's
  PUB precedes the events'.
"""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

import structlog
from nats.aio.client import Client as NATS
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.events import AssistantMessageRequested
from contracts.replies import PartlyRaw
from contracts.subjects import CHAT_CONTEXT_PUSH_FILTER, chat_context_push_subject
from contracts.views import ChatContextView
from messaging.routes import Publish
from threads.queries.chat import context_row, context_view
from threads.store.unit_of_work import Announce, HandlerContext

log = structlog.get_logger(__name__)

ROUTE = Publish(
    CHAT_CONTEXT_PUSH_FILTER,
    ChatContextView,
    title="ChatContextPush",
    description="Core NATS, when PostChat, RegenerateAnswer or EditMessage commits (before "
    "its events): the chat context the worker would ask for on qry.chat.context, on "
    "`push.chat.context.<message id>`. Never "
    "for a user with a saved config for the thread's provider, nor past "
    "THREADS_CONTEXT_PUSH_MAX_BYTES.",
)


async def stage(
    ctx: HandlerContext[Any], requested: AssistantMessageRequested, max_bytes: int
) -> None:
    """Read the context in the command's transaction; it is published if the command commits."""
    if max_bytes <= 0:
        return
    view = await context_to_push(
        ctx.conn,
        requested.user_id,
        requested.thread_id,
        requested.message_id,
        requested.provider,
        max_bytes,
    )
    if view is None:
        return
    payload = view.to_json()
    if len(payload) <= max_bytes:
        ctx.announce(chat_context_push_subject(requested.message_id), payload)


async def context_to_push(
    conn: AsyncConnection,
    user_id: UUID,
    thread_id: UUID,
    message_id: UUID,
    provider: str,
    max_bytes: int,
) -> PartlyRaw | None:
    """The context the worker would ask for (a `ChatContextView`), or None when the user
    saved a config for the provider or its history's texts alone are over `max_bytes` (a long
    thread: not read at all). `credentials` None means none saved (the deployment's settings
    apply), as in the query's answer."""
    row = await context_row(conn, user_id, thread_id, message_id, provider, push_limit=max_bytes)
    if row is None or row.saved_config is not None or row.history is None:
        return None
    return context_view(row, None)


def publisher(nc: NATS) -> Announce:
    """The unit of work's announcement hook: publish a committed command's pushes on `nc`."""
    in_flight: set[asyncio.Task[None]] = set()

    async def publish(items: list[tuple[str, bytes]]) -> None:
        try:
            for subject, payload in items:
                await nc.publish(subject, payload)
        except Exception as exc:  # NATS away: the worker asks instead
            log.info("context push not published", error=type(exc).__name__)

    def announce(items: list[tuple[str, bytes]]) -> None:
        task = asyncio.create_task(publish(items))
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)

    return announce
