"""The AssistantMessageRequested a delivery carries, the envelope its outcome goes with, and
the provider request its options make.

The outcome's envelope continues the request's conversation: same correlation id, caused by
the relayed event, on behalf of the requesting user.
"""

from __future__ import annotations

from uuid import UUID

from chat_worker.providers.base import ChatMessage, ChatRequest
from contracts.base import Envelope
from contracts.events import AssistantMessageRequested
from contracts.relayed import RelayedFields, relayed_event


def envelope_of(record: RelayedFields, user_id: UUID) -> Envelope:
    metadata = record.get("metadata") or {}
    try:
        correlation = UUID(str(metadata.get("correlation_id")))
    except ValueError:
        return Envelope(user_id=user_id)
    return Envelope(
        correlation_id=correlation, causation_id=UUID(record["event_id"]), user_id=user_id
    )


def parse_request(raw: bytes | None) -> tuple[AssistantMessageRequested, Envelope] | None:
    """None when the bytes are not a relayed AssistantMessageRequested."""
    try:
        req, record = relayed_event(raw, AssistantMessageRequested)
        return req, envelope_of(record, req.user_id)
    except (ValueError, KeyError, TypeError):
        return None


def chat_request(
    req: AssistantMessageRequested, system: str, history: list[ChatMessage], max_tokens: int
) -> ChatRequest:
    """The caller's options over the worker's defaults (`max_tokens`: WORKER_MAX_TOKENS)."""
    options = req.options
    if options is None:
        return ChatRequest(req.model, system, history, max_tokens)
    return ChatRequest(
        req.model,
        system,
        history,
        options.max_tokens or max_tokens,
        temperature=options.temperature,
        top_p=options.top_p,
        stop=tuple(options.stop or ()),
    )
