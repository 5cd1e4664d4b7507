"""Answers one AssistantMessageRequested delivery, from context to acknowledgement.

1. The context (`context`): pushed with PostChat for a first delivery, else asked for. Gone →
   ack. Already finished → make sure the stream has its terminal event (`outcome`), ack.
2. The attempts (`attempts`, `coalescing`): generated and streamed, retried or restarted.
3. The outcome (`outcome`): recorded through a threads command, then the terminal token
   event, then the ack. The ack comes only after the threads service recorded the outcome;
   if it cannot be reached the delivery is nacked and comes back later, and the heartbeat
   keeps the delivery ours meanwhile.
4. After the ack, the title of a new thread (`titles`).

Fenced (see `token_stream`): a delivery of an answer this process is already generating (the
request came back while the process was paused past the ack wait) is left alone, neither
acked nor nacked: the answer under way keeps running, and its heartbeats and its ack count
for the redelivered message too (JetStream tracks a message by its stream sequence). An
attempt superseded by another worker's stops at its next publish and leaves its delivery to
that worker, recording nothing.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from nats.aio.msg import Msg

from chat_worker.answering.attempts import Generation, Request
from chat_worker.answering.cancels import CancelHandle, InFlight
from chat_worker.answering.composer import Composed, Composer
from chat_worker.answering.context import AnswerContext, ContextSource
from chat_worker.answering.outcome import (
    Outcome,
    publish_terminal,
    record,
    repair_terminal,
    replay_stored,
    stored_outcome,
)
from chat_worker.answering.prompt import build_prompt
from chat_worker.answering.request import chat_request, parse_request
from chat_worker.answering.summaries import Summaries
from chat_worker.answering.titles import TitleJob, Titles
from chat_worker.answering.token_stream import Fence, Superseded, TokenStreams
from chat_worker.config import Settings
from chat_worker.providers.base import ChatMessage, ProviderError
from chat_worker.providers.registry import ProviderRegistry
from chat_worker.threads_client import ThreadsClient, ThreadsUnavailable
from contracts.base import Envelope
from contracts.events import AssistantMessageRequested
from contracts.views import ChatContextView

log = structlog.get_logger(__name__)


class Answerer:
    def __init__(
        self,
        settings: Settings,
        contexts: ContextSource,
        inflight: InFlight,
        streams: TokenStreams,
        registry: ProviderRegistry,
        threads: ThreadsClient,
        titles: Titles,
        summaries: Summaries,
    ) -> None:
        self.settings = settings
        self.contexts = contexts
        self.inflight = inflight
        self.streams = streams
        self.registry = registry
        self.threads = threads
        self.titles = titles
        self.summaries = summaries

    async def handle(self, msg: Msg) -> None:
        parsed = parse_request(msg.data)
        if parsed is None:
            log.error("malformed AssistantMessageRequested; terminating it", subject=msg.subject)
            await msg.term()
            return
        req, meta = parsed
        delivered = msg.metadata.num_delivered or 1
        if self.inflight.active(req.message_id):
            log.info(
                "redelivered answer already under way here; left to it",
                message_id=str(req.message_id),
                delivery=delivered,
            )
            return
        # Every line logged for this answer, its title included, carries the request's ids.
        with structlog.contextvars.bound_contextvars(
            correlation_id=str(meta.correlation_id),
            message_id=str(req.message_id),
            delivery=delivered,
        ):
            await self._settle(msg, req, meta, delivered)

    async def _settle(
        self, msg: Msg, req: AssistantMessageRequested, meta: Envelope, delivered: int
    ) -> None:
        """Answer, then ack (outcome recorded) or nack (try again later); then the title."""
        handle = self.inflight.register(req.message_id)
        heartbeat = asyncio.create_task(self._heartbeat(msg))
        title_job: TitleJob | None = None
        settled: bool | None  # None: superseded, left to the delivery that took over
        try:
            settled, title_job = await self._answer(req, meta, handle, delivered)
        except Superseded:
            settled = None
        except ThreadsUnavailable as exc:
            log.warning("threads service unavailable; will be redelivered", error=str(exc))
            settled = False
        except Exception:
            log.exception("answer failed; will be redelivered")
            settled = False
        finally:
            heartbeat.cancel()
            self.inflight.release(req.message_id)
        if settled is None:
            # The delivery belongs to the worker whose attempt came after: no ack, no nak.
            log.warning("attempt superseded by another delivery; stopped")
        elif settled:
            await msg.ack()
        else:
            await msg.nak(delay=self._redelivery_delay(delivered))
        if title_job is not None:
            await title_job()
        # The last word on this delivery: nothing more comes of it (tests wait for this line).
        log.info("delivery settled", acked=settled, title_job=title_job is not None)

    def _redelivery_delay(self, delivered: int) -> float:
        steps = self.settings.backoff or [self.settings.ack_wait]
        return steps[min(delivered - 1, len(steps) - 1)]

    async def _heartbeat(self, msg: Msg) -> None:
        """Keeps the delivery ours while we work: resets the server's ack timer."""
        while True:
            await asyncio.sleep(self.settings.heartbeat_interval)
            with contextlib.suppress(Exception):
                await msg.in_progress()

    async def _answer(
        self, req: AssistantMessageRequested, meta: Envelope, handle: CancelHandle, delivered: int
    ) -> tuple[bool, TitleJob | None]:
        """(settled, the title to write after the ack)."""
        found = await self.contexts.for_delivery(req, meta, delivered)
        if found is None:
            log.info("thread or message gone; dropping the request")
            return True, None
        if found.finished:
            await repair_terminal(self.streams, req, found.view)
            return True, None
        log.info(
            "answering",
            provider=req.provider,
            model=req.model,
            attempt=found.first_attempt,
            context=found.source,
        )
        fence = Fence(found.fence)
        generation = Generation(
            self.settings,
            new_stream=lambda attempt: self.streams.open(
                req.thread_id, req.message_id, attempt, fence
            ),
            cancel=handle,
        )
        outcome = await self._generate(req, meta, found, generation)
        tokens = (
            generation.attempts[-1]
            if generation.attempts
            else self.streams.open(req.thread_id, req.message_id, outcome.attempt, fence)
        )
        if not await record(self.threads, req, meta, outcome):
            # Another delivery finished it first. Its terminal event ends the stream, unless
            # our tokens came after its last ones: then its stored text goes out again.
            if tokens.started:
                await self._stream_stored(req, meta, outcome.attempt)
            return True, None
        try:
            await publish_terminal(tokens, outcome)
        except Superseded:  # another attempt's tokens came after ours: ours is the stored one
            await replay_stored(self.streams, req, outcome)
        log.info(
            "answer recorded",
            outcome=outcome.kind,
            attempt=outcome.attempt,
            chars=len(outcome.content),
            code=outcome.code or None,
        )
        return True, self.titles.job_for(req, meta, found.view, outcome)

    async def _stream_stored(
        self, req: AssistantMessageRequested, meta: Envelope, attempt: int
    ) -> None:
        view = await self.contexts.stored(req, meta)
        if view is not None and view.message is not None and view.message_status != "streaming":
            await replay_stored(self.streams, req, stored_outcome(view.message, attempt))

    async def _generate(
        self,
        req: AssistantMessageRequested,
        meta: Envelope,
        found: AnswerContext,
        generation: Generation,
    ) -> Outcome:
        first = found.first_attempt
        if found.view.cancel_requested or generation.cancel.requested:
            return Outcome("cancelled", first)
        try:
            if isinstance(found.creds, ProviderError):
                raise found.creds
            creds = found.creds
            adapter = self.registry.get(req.provider)
        except ProviderError as err:
            return Outcome("failed", first, code=err.code, error=err.message)

        def prompt(view: ChatContextView) -> tuple[str, list[ChatMessage]]:
            return build_prompt(view, self.settings.max_document_chars, req.instructions)

        def request(composed: Composed) -> Request:
            chat = chat_request(req, composed.system, composed.history, self.settings.max_tokens)
            return Request(adapter, creds, chat)

        composer = Composer(prompt, self.summaries)
        max_tokens = (req.options and req.options.max_tokens) or self.settings.max_tokens
        composed = await composer.compose(found.view, meta, req.model, max_tokens, req.message_id)
        outcome = await generation.run(request(composed), first)
        if outcome.code == "context_too_long" and not outcome.content:
            smaller = composer.shrink(found.view, composed)
            if smaller is not None:  # the provider counts differently: once more, with less
                log.info("context too long for the provider; retrying with less history")
                composed = smaller
                outcome = await generation.run(request(composed), outcome.attempt + 1)
        stored = found.view.message.metadata if found.view.message else None
        outcome.metadata = {**(stored or {}), "context": composed.context}
        return outcome
