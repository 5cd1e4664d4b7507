"""Answers one AssistantMessageRequested delivery, from context to acknowledgement.

1. Take the chat context pushed with PostChat (first delivery only), else ask the threads
   service for it. Gone → ack. Already finished (a redelivery after a crash that came after
   the outcome was recorded) → make sure the stream has its terminal event, ack.
2. If an earlier delivery already published tokens (its worker died mid-answer), this one is
   attempt n+1, announced by its own `start`.
3. Generate (see `generation`), record the outcome through a threads command, then publish the
   terminal token event, then ack. The ack comes only after the threads service recorded the
   outcome; if it cannot be reached the delivery is nacked and comes back later.
4. After the first exchange of a `New Chat` thread, generate its title (after the ack).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

import orjson
import structlog
from nats.aio.msg import Msg

from chat_worker.generation import Generation, Outcome, Request
from chat_worker.inflight import CancelHandle
from chat_worker.prompt import build_prompt
from chat_worker.providers.base import ProviderCredentials, ProviderError
from chat_worker.threads_client import ThreadsUnavailable
from chat_worker.titles import generate_title
from chat_worker.token_stream import TokenStream, last_event
from chat_worker.worker import Worker
from contracts import subjects
from contracts.base import Command, Envelope
from contracts.commands import (
    CompleteAssistantMessage,
    FailAssistantMessage,
    RecordCancelledMessage,
    SetGeneratedTitle,
)
from contracts.errors import ErrorCode
from contracts.events import AssistantMessageRequested
from contracts.views import ChatContextView

log = structlog.get_logger(__name__)
TERMINAL = frozenset({"end", "error", "cancelled"})
DEFAULT_TITLE = "New Chat"
TitleJob = Callable[[], Awaitable[None]]


def _meta(record: dict[str, Any], user_id: UUID) -> Envelope:
    metadata = record.get("metadata") or {}
    try:
        correlation = UUID(str(metadata.get("correlation_id")))
    except ValueError:
        return Envelope(user_id=user_id)
    return Envelope(
        correlation_id=correlation, causation_id=UUID(record["event_id"]), user_id=user_id
    )


def _request(data: bytes) -> tuple[AssistantMessageRequested, Envelope] | None:
    """The relayed AssistantMessageRequested and the envelope its outcome is recorded with."""
    try:
        record = orjson.loads(data)
        req = AssistantMessageRequested.model_validate(record["data"])
        return req, _meta(record, req.user_id)
    except Exception:
        return None


class Answerer:
    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self.settings = worker.settings

    async def handle(self, msg: Msg) -> None:
        parsed = _request(msg.data)
        if parsed is None:
            log.error("malformed AssistantMessageRequested; terminating it", subject=msg.subject)
            await msg.term()
            return
        req, meta = parsed
        delivered = msg.metadata.num_delivered or 1
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
        handle = self.worker.inflight.register(req.message_id)
        heartbeat = asyncio.create_task(self._heartbeat(msg))
        title_job: TitleJob | None = None
        try:
            settled, title_job = await self._answer(req, meta, handle, delivered)
        except ThreadsUnavailable as exc:
            log.warning("threads service unavailable; will be redelivered", error=str(exc))
            settled = False
        except Exception:
            log.exception("answer failed; will be redelivered")
            settled = False
        finally:
            heartbeat.cancel()
            self.worker.inflight.release(req.message_id)
        if settled:
            await msg.ack()
        else:
            await msg.nak(delay=self._redelivery_delay(delivered))
        if title_job is not None:
            await title_job()

    async def give_up(self, data: bytes) -> None:
        """This request's deliveries ran out without an outcome (see `handlers.exhausted`):
        record the answer failed, as a new attempt with no text, announced like any restart,
        so what a reader saw of an earlier attempt is dropped and the stream ends with `error`
        (the stored answer is what that last attempt streamed: nothing)."""
        parsed = _request(data)
        if parsed is None:
            log.error("malformed exhausted AssistantMessageRequested ignored")
            return
        req, meta = parsed
        with structlog.contextvars.bound_contextvars(
            correlation_id=str(meta.correlation_id), message_id=str(req.message_id)
        ):
            try:
                last = await last_event(self.worker.js, req.thread_id, req.message_id)
                attempt = max(req.attempt, int(last["attempt"]) + 1 if last else 1)
                outcome = Outcome(
                    "failed",
                    attempt,
                    code="provider_unavailable",
                    error="No chat worker could finish this answer",
                )
                if await self._record(req, meta, outcome):
                    await self._publish_terminal(self._stream(req, attempt), outcome)
                    log.warning("answer failed: its deliveries ran out", attempt=attempt)
            except Exception as exc:  # threads service or NATS away: it stays unfinished
                log.error("exhausted answer not recorded", error=type(exc).__name__)

    def _redelivery_delay(self, delivered: int) -> float:
        steps = self.settings.backoff or [self.settings.ack_wait]
        return steps[min(delivered - 1, len(steps) - 1)]

    async def _heartbeat(self, msg: Msg) -> None:
        """Keeps the delivery ours while we work: resets the server's ack timer."""
        while True:
            await asyncio.sleep(self.settings.heartbeat_interval)
            with contextlib.suppress(Exception):
                await msg.in_progress()

    def _stream(self, req: AssistantMessageRequested, attempt: int) -> TokenStream:
        return TokenStream(
            self.worker.js, req.thread_id, req.message_id, attempt, self.settings.request_timeout
        )

    def _credentials(
        self, provider: str, ctx: ChatContextView
    ) -> ProviderCredentials | ProviderError:
        try:
            return self.worker.credentials.combine(provider, ctx.credentials)
        except ProviderError as err:
            return err

    async def _answer(
        self,
        req: AssistantMessageRequested,
        meta: Envelope,
        handle: CancelHandle,
        delivered: int,
    ) -> tuple[bool, TitleJob | None]:
        ctx = self._pushed_context(req) if delivered == 1 else None
        if ctx is not None:
            return await self._answer_with(req, meta, handle, ctx, req.attempt, "pushed")
        # The lookups go out together: they are on the path to the first token. The context
        # brings the user's credentials for the thread's provider with it.
        previous = (
            asyncio.create_task(last_event(self.worker.js, req.thread_id, req.message_id))
            if delivered > 1  # only a redelivery can find tokens of an earlier attempt
            else None
        )
        try:
            ctx = await self.worker.threads.chat_context(
                meta,
                req.thread_id,
                req.message_id,
                credentials_for=(
                    req.provider if self.worker.credentials.needs_lookup(req.provider) else None
                ),
            )
            last = await previous if previous is not None else None
        finally:
            if previous is not None and not previous.done():
                previous.cancel()
        if ctx is None:
            log.info("thread or message gone; dropping the request")
            return True, None
        if ctx.message_status != "streaming":
            await self._repair_terminal(req, ctx)
            return True, None
        first_attempt = max(req.attempt, int(last["attempt"]) + 1 if last else 1)
        return await self._answer_with(req, meta, handle, ctx, first_attempt, "asked")

    def _pushed_context(self, req: AssistantMessageRequested) -> ChatContextView | None:
        payload = self.worker.pushed.take(req.message_id)
        if payload is None:
            return None
        try:
            ctx = ChatContextView.model_validate_json(payload)
        except ValueError:
            log.warning("malformed chat context push ignored")
            return None
        mine = ctx.message is not None and ctx.message.id == req.message_id
        if not mine or ctx.thread.id != req.thread_id or ctx.message_status != "streaming":
            return None
        return ctx

    async def _answer_with(
        self,
        req: AssistantMessageRequested,
        meta: Envelope,
        handle: CancelHandle,
        ctx: ChatContextView,
        first_attempt: int,
        context: str,
    ) -> tuple[bool, TitleJob | None]:
        log.info(
            "answering",
            provider=req.provider,
            model=req.model,
            attempt=first_attempt,
            context=context,
        )
        generation = Generation(
            self.settings, new_stream=lambda attempt: self._stream(req, attempt), cancel=handle
        )
        resolved = self._credentials(req.provider, ctx)
        outcome = await self._generate(req, ctx, resolved, generation, first_attempt)
        tokens = (
            generation.attempts[-1] if generation.attempts else self._stream(req, outcome.attempt)
        )
        if not await self._record(req, meta, outcome):
            return True, None  # another delivery finished it first: its terminal event stands
        await self._publish_terminal(tokens, outcome)
        log.info(
            "answer recorded",
            outcome=outcome.kind,
            attempt=outcome.attempt,
            chars=len(outcome.content),
            code=outcome.code or None,
        )
        wants_title = (
            outcome.kind == "complete" and ctx.first_exchange and ctx.thread.title == DEFAULT_TITLE
        )
        return True, (self._title_job(req, meta, ctx, outcome.content) if wants_title else None)

    async def _generate(
        self,
        req: AssistantMessageRequested,
        ctx: ChatContextView,
        creds: ProviderCredentials | ProviderError,
        generation: Generation,
        first_attempt: int,
    ) -> Outcome:
        if ctx.cancel_requested or generation.cancel.requested:
            return Outcome("cancelled", first_attempt)
        try:
            if isinstance(creds, ProviderError):
                raise creds
            adapter = self.worker.registry.get(req.provider)
        except ProviderError as err:
            return Outcome("failed", first_attempt, code=err.code, error=err.message)
        system, history = build_prompt(ctx, self.settings.max_document_chars)
        request = Request(adapter, creds, req.model, system, history, self.settings.max_tokens)
        return await generation.run(request, first_attempt)

    async def _record(
        self, req: AssistantMessageRequested, meta: Envelope, outcome: Outcome
    ) -> bool:
        """True if this delivery's outcome is the stored one; False if the message was already
        finished (or its thread deleted) when it arrived."""
        command_id = f"outcome:{req.message_id}:{outcome.attempt}"
        common: dict[str, Any] = {
            "meta": meta,
            "command_id": command_id,
            "thread_id": req.thread_id,
            "message_id": req.message_id,
            "attempt": outcome.attempt,
        }
        command: Command
        if outcome.kind == "complete":
            command = CompleteAssistantMessage(
                **common,
                content=outcome.content,
                finish_reason=outcome.finish_reason,
                usage=outcome.usage,
            )
            subject = subjects.CHAT_COMPLETE
        elif outcome.kind == "cancelled":
            command = RecordCancelledMessage(**common, content=outcome.content)
            subject = subjects.CHAT_RECORD_CANCELLED
        else:
            command = FailAssistantMessage(
                **common, content=outcome.content, code=outcome.code, error=outcome.error
            )
            subject = subjects.CHAT_FAIL
        reply = await self.worker.threads.record(subject, command)
        if reply.ok:
            return True
        assert reply.error is not None
        if reply.error.code in (ErrorCode.CONFLICT, ErrorCode.NOT_FOUND):
            log.info("outcome not recorded", reason=reply.error.detail)
            return False
        # Refused as invalid (text the store cannot hold): record the failure instead.
        log.error("outcome refused", code=reply.error.code, detail=reply.error.detail)
        outcome.kind, outcome.code = "failed", "provider_error"
        outcome.error, outcome.content = "The answer could not be stored", ""
        fallback = FailAssistantMessage(
            **{**common, "command_id": f"{command_id}:fail"},
            code=outcome.code,
            error=outcome.error,
        )
        reply = await self.worker.threads.record(subjects.CHAT_FAIL, fallback)
        return reply.ok

    async def _publish_terminal(self, tokens: TokenStream, outcome: Outcome) -> None:
        await tokens.start()
        if outcome.kind == "complete":
            await tokens.end(outcome.finish_reason, outcome.usage)
        elif outcome.kind == "cancelled":
            await tokens.cancelled()
        else:
            await tokens.error(outcome.code, outcome.error)

    async def _repair_terminal(self, req: AssistantMessageRequested, ctx: ChatContextView) -> None:
        """A finished message whose stream lacks its terminal event (the worker died between
        recording and publishing) gets it now, so no reader waits forever."""
        last = await last_event(self.worker.js, req.thread_id, req.message_id)
        if last is None or last.get("kind") in TERMINAL or ctx.message is None:
            return
        tokens = self._stream(req, int(last.get("attempt", 1)))
        tokens.started, tokens.seq = True, int(last.get("seq", 0))
        stored = ctx.message
        error = stored.metadata or {}
        outcome = Outcome(
            "complete" if stored.status == "complete" else stored.status,  # type: ignore[arg-type]
            tokens.attempt,
            stored.content,
            usage=stored.usage,
            code=str(error.get("error_code", "provider_error")),
            error=str(error.get("error", "")),
        )
        await self._publish_terminal(tokens, outcome)

    def _title_job(
        self, req: AssistantMessageRequested, meta: Envelope, ctx: ChatContextView, answer: str
    ) -> TitleJob:
        async def run() -> None:
            try:
                title = await generate_title(
                    ctx,
                    answer,
                    meta,
                    self.worker.registry,
                    self.worker.credentials,
                    max_tokens=self.settings.title_max_tokens,
                    timeout=self.settings.title_timeout,
                )
                if title:
                    await self.worker.threads.record(
                        subjects.THREAD_SET_TITLE,
                        SetGeneratedTitle(
                            meta=meta,
                            command_id=f"title:{req.thread_id}",
                            thread_id=req.thread_id,
                            title=title,
                        ),
                    )
            except (ProviderError, ThreadsUnavailable, TimeoutError) as exc:
                log.info("title not generated", reason=type(exc).__name__)
            except Exception:
                log.exception("title generation failed")

        return run
