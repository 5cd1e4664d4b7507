"""An answer's outcome: recorded by the threads service first, then ended on its stream.

The order matters. Recording comes first, with a command id per attempt, so whichever
delivery records first decides the stored answer and a second is refused; only the delivery
whose outcome was stored publishes the terminal token event. A stored outcome whose stream
lacks its terminal event (the worker died in between) is repaired by the next delivery; one
whose stream went on with another attempt's tokens is streamed again as the newest attempt
(`replay_stored`), so the stream always ends with exactly the stored text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import structlog

from chat_worker.answering.token_stream import (
    Fence,
    Superseded,
    TokenStream,
    TokenStreams,
    next_attempt,
)
from chat_worker.threads_client import Refused, ThreadsClient
from contracts.base import Command, Envelope
from contracts.commands import (
    CompleteAssistantMessage,
    FailAssistantMessage,
    RecordCancelledMessage,
)
from contracts.errors import ErrorCode
from contracts.events import AssistantMessageRequested
from contracts.tokens import is_terminal
from contracts.views import ChatContextView, MessageView, OutcomeRecordedView

log = structlog.get_logger(__name__)
REPLAY_TRIES = 5  # attempts to put the stored answer last on its stream
OutcomeKind = Literal["complete", "failed", "cancelled"]


@dataclass
class Outcome:
    kind: OutcomeKind
    attempt: int
    content: str = ""
    finish_reason: str = "stop"
    usage: dict[str, Any] | None = None
    code: str = ""
    error: str = ""
    metadata: dict[str, Any] | None = None  # the answer's, with `context` (composer)
    reasoning: str | None = None  # streamed apart from `content`, kept whatever the outcome


def streamed(kind: OutcomeKind, tokens: TokenStream, **fields: Any) -> Outcome:
    """The outcome of what `tokens` published: exactly its text and its reasoning."""
    return Outcome(kind, tokens.attempt, tokens.content, reasoning=tokens.reasoning, **fields)


def outcome_command(
    req: AssistantMessageRequested, meta: Envelope, outcome: Outcome
) -> Command[OutcomeRecordedView]:
    common: dict[str, Any] = {
        "meta": meta,
        "command_id": f"outcome:{req.message_id}:{outcome.attempt}",
        "thread_id": req.thread_id,
        "message_id": req.message_id,
        "attempt": outcome.attempt,
        "content": outcome.content,
        "reasoning": outcome.reasoning,
        "usage": outcome.usage,  # whatever the outcome: the usage ledger counts it
    }
    if outcome.kind == "complete":
        return CompleteAssistantMessage(
            **common, finish_reason=outcome.finish_reason, metadata=outcome.metadata
        )
    if outcome.kind == "cancelled":
        return RecordCancelledMessage(**common)
    return FailAssistantMessage(**common, code=outcome.code, error=outcome.error)


async def record(
    threads: ThreadsClient, req: AssistantMessageRequested, meta: Envelope, outcome: Outcome
) -> bool:
    """True if this delivery's outcome is the stored one; False if the message was already
    finished (or its thread deleted) when it arrived. An outcome refused as invalid (text the
    store cannot hold) is recorded as a failure instead, and `outcome` says so."""
    command = outcome_command(req, meta, outcome)
    try:
        await threads.call_until_answered(command)
        return True
    except Refused as refused:
        if refused.code in (ErrorCode.CONFLICT, ErrorCode.NOT_FOUND):
            log.info("outcome not recorded", reason=refused.detail)
            return False
        log.error("outcome refused", code=refused.code, detail=refused.detail)
    outcome.kind, outcome.code = "failed", "provider_error"
    outcome.error, outcome.content = "The answer could not be stored", ""
    outcome.reasoning = None
    fallback = outcome_command(req, meta, outcome).model_copy(
        update={"command_id": f"{command.command_id}:fail"}
    )
    try:
        await threads.call_until_answered(fallback)
    except Refused:
        return False
    return True


async def publish_terminal(tokens: TokenStream, outcome: Outcome) -> None:
    await tokens.start()
    if outcome.kind == "complete":
        await tokens.end(outcome.finish_reason, outcome.usage)
    elif outcome.kind == "cancelled":
        await tokens.cancelled()
    else:
        await tokens.error(outcome.code, outcome.error)


async def repair_terminal(
    streams: TokenStreams, req: AssistantMessageRequested, ctx: ChatContextView
) -> None:
    """A finished message whose stream lacks its terminal event gets it now, so no reader
    waits forever."""
    last = await streams.newest(req.thread_id, req.message_id)
    if last is None or is_terminal(last[1]) or ctx.message is None:
        return
    seq, token = last
    tokens = streams.open(req.thread_id, req.message_id, int(token.get("attempt", 1)), Fence(seq))
    tokens.started, tokens.seq = True, int(token.get("seq", 0))
    outcome = stored_outcome(ctx.message, tokens.attempt)
    try:
        await publish_terminal(tokens, outcome)
    except Superseded:
        await replay_stored(streams, req, outcome)


def stored_outcome(stored: MessageView, attempt: int) -> Outcome:
    error = stored.metadata or {}
    return Outcome(
        "complete" if stored.status == "complete" else stored.status,  # type: ignore[arg-type]
        attempt,
        stored.content,
        usage=stored.usage,
        reasoning=stored.reasoning,
        code=str(error.get("error_code", "provider_error")),
        error=str(error.get("error", "")),
    )


async def replay_stored(
    streams: TokenStreams, req: AssistantMessageRequested, outcome: Outcome
) -> None:
    """The stored outcome as a new attempt after whatever the stream holds now: `start`, its
    reasoning and its text as one event each, its terminal event. Used when another attempt's
    tokens came after the stored one's, so a reader drops that text at the `restart` and ends
    with exactly the stored text. A terminal event already last on the stream is the stored
    outcome's (only the delivery whose outcome was recorded publishes one): then nothing is
    needed."""
    for _ in range(REPLAY_TRIES):
        last = await streams.newest(req.thread_id, req.message_id)
        if last is not None and is_terminal(last[1]):
            return
        fence = Fence(last[0] if last is not None else 0)
        attempt = next_attempt(outcome.attempt, last[1] if last is not None else None)
        tokens = streams.open(req.thread_id, req.message_id, attempt, fence)
        try:
            if outcome.reasoning:
                await tokens.reasoning_delta(outcome.reasoning)
            if outcome.content:
                await tokens.delta(outcome.content)
            await publish_terminal(tokens, outcome)
            log.info("stored answer streamed again", attempt=tokens.attempt)
            return
        except Superseded:
            continue
    log.warning("stored answer not streamed again: its stream keeps changing")
