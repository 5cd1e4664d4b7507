"""The newest token event of one answer on the JetStream stream TOKENS.

The gateway asks it to know whether a resuming client already has the whole answer; the chat
worker, to know which attempt an earlier delivery reached. Both read it the same way: one
`get_last_msg` on the answer's subject, decoded by `contracts.tokens`.
"""

from __future__ import annotations

from uuid import UUID

from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from contracts.subjects import TOKENS_STREAM, tokens_subject
from contracts.tokens import TokenFields, decode_token


async def last_token(
    js: JetStreamContext, thread_id: UUID, message_id: UUID
) -> tuple[int, TokenFields] | None:
    """(stream sequence, event) of the message's newest token event; None if it has none,
    they expired, or TOKENS does not exist yet. Other NATS errors pass through."""
    try:
        msg = await js.get_last_msg(TOKENS_STREAM, tokens_subject(thread_id, message_id))
    except NotFoundError:
        return None
    return int(msg.seq or 0), decode_token(msg.data)
