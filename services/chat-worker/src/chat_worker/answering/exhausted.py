"""Fails the answers whose request ran out of deliveries (`WORKER_MAX_DELIVER`) unanswered.

Every delivery of such a request ended without an outcome: its workers died mid-answer, or
could not reach the threads service. JetStream then stops redelivering and says so once, on
the MAX_DELIVERIES advisory. One worker (a queue group) hears it, reads the request back from
EVENTS by its sequence and records the answer as failed (`provider_unavailable`) as a new
attempt with no text, announced like any restart, so what a reader saw of an earlier attempt
is dropped and the stream ends with `error` instead of leaving every reader waiting on a
message that stays `streaming`. An answer that did get an outcome meanwhile keeps it (the
threads service refuses a second one). The advisory is not stored: if no worker hears it, the
answer stays unfinished.
"""

from __future__ import annotations

import structlog
from nats.aio.msg import Msg

from chat_worker.answering.outcome import Outcome, publish_terminal, record, replay_stored
from chat_worker.answering.request import parse_request
from chat_worker.answering.token_stream import Fence, Superseded, TokenStreams, next_attempt
from chat_worker.threads_client import ThreadsClient
from contracts.advisories import MaxDeliveriesAdvisory
from contracts.subjects import EVENTS_STREAM

log = structlog.get_logger(__name__)
QUEUE = "chat-worker-exhausted"  # one worker per advisory


class ExhaustedRequests:
    def __init__(self, streams: TokenStreams, threads: ThreadsClient) -> None:
        self.streams = streams
        self.threads = threads

    async def hear(self, msg: Msg) -> None:
        """The advisory listener."""
        try:
            seq = MaxDeliveriesAdvisory.model_validate_json(msg.data).stream_seq
        except ValueError:
            log.warning("malformed max-deliveries advisory ignored")
            return
        try:
            stored = await self.streams.js.get_msg(EVENTS_STREAM, seq)
        except Exception as exc:  # gone, or NATS away: nothing to do
            log.warning("exhausted request not readable", seq=seq, error=type(exc).__name__)
            return
        if stored.data is not None:
            await self.give_up(stored.data)

    async def give_up(self, data: bytes) -> None:
        parsed = parse_request(data)
        if parsed is None:
            log.error("malformed exhausted AssistantMessageRequested ignored")
            return
        req, meta = parsed
        with structlog.contextvars.bound_contextvars(
            correlation_id=str(meta.correlation_id), message_id=str(req.message_id)
        ):
            try:
                last = await self.streams.newest(req.thread_id, req.message_id)
                attempt = next_attempt(req.attempt, last[1] if last is not None else None)
                outcome = Outcome(
                    "failed",
                    attempt,
                    code="provider_unavailable",
                    error="No chat worker could finish this answer",
                )
                if await record(self.threads, req, meta, outcome):
                    fence = Fence(last[0] if last is not None else 0)
                    tokens = self.streams.open(req.thread_id, req.message_id, attempt, fence)
                    try:
                        await publish_terminal(tokens, outcome)
                    except Superseded:
                        await replay_stored(self.streams, req, outcome)
                    log.warning("answer failed: its deliveries ran out", attempt=attempt)
                else:
                    log.info("exhausted answer keeps the outcome it had")
            except Exception as exc:  # threads service or NATS away: it stays unfinished
                log.error("exhausted answer not recorded", error=type(exc).__name__)
