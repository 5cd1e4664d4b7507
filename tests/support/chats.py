"""A chat posted straight through the threads service's unit of work (no gateway, no worker)."""

from __future__ import annotations

import functools
import uuid

from contracts.base import Envelope
from contracts.commands import CreateThread, PostChat
from threads.handlers import create_thread, post_chat
from threads.store.unit_of_work import UnitOfWork


async def post_echo_chat(uow: UnitOfWork, content: str) -> PostChat:
    """A new echo thread of a new user, and a question in it whose answer is requested."""
    meta = Envelope(user_id=uuid.uuid4())
    thread_id = uuid.uuid4()
    reply = await uow.run(
        CreateThread(meta=meta, thread_id=thread_id, provider="echo", model="echo"),
        functools.partial(create_thread.handle, default_provider="echo"),
    )
    assert reply.ok, reply.error
    cmd = PostChat(
        meta=meta,
        thread_id=thread_id,
        user_message_id=uuid.uuid4(),
        assistant_message_id=uuid.uuid4(),
        content=content,
    )
    reply = await uow.run(cmd, post_chat.handle)
    assert reply.ok, reply.error
    return cmd
