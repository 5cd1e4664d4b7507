"""Share links: a read-only snapshot of a thread's active path, taken when shared.

The snapshot keeps only what a reader needs (role, content, time): no user, thread or message
id ever leaves through a link. Answers still streaming are left out, having no text yet.
"""

from __future__ import annotations

from uuid import UUID

from contracts.errors import ErrorCode
from contracts.events import ShareRevoked, ThreadShared
from contracts.views import MessageView, SharedMessage
from threads.domain.errors import DomainError, not_found
from threads.domain.thread import ThreadState, require_owned

SNAPSHOT_MAX_BYTES = 524_288  # the snapshot travels in one event, relayed in one NATS message


def decide_share(
    state: ThreadState | None,
    *,
    user_id: UUID | None,
    share_id: str,
    path: list[MessageView],
) -> list[ThreadShared]:
    thread = require_owned(state, user_id)
    assert user_id is not None
    shown = [
        SharedMessage(role=m.role, content=m.content, created_at=m.created_at)
        for m in path
        if m.status != "streaming"
    ]
    size = sum(len(m.content.encode("utf-8")) for m in shown)
    if size > SNAPSHOT_MAX_BYTES:
        raise DomainError(
            ErrorCode.TOO_LARGE,
            f"The active path holds {size} bytes; a share link holds at most {SNAPSHOT_MAX_BYTES}",
        )
    return [
        ThreadShared(
            thread_id=thread.thread_id,
            share_id=share_id,
            user_id=user_id,
            title=thread.title,
            messages=shown,
        )
    ]


def decide_revoke(
    state: ThreadState | None, *, user_id: UUID | None, share_id: str, live: bool
) -> list[ShareRevoked]:
    """`live`: the link exists and is the user's; anything else is not found."""
    if not live:
        raise not_found("Share")
    thread = require_owned(state, user_id)
    return [ShareRevoked(thread_id=thread.thread_id, share_id=share_id)]
