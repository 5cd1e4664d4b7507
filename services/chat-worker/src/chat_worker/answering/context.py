"""The chat context an answer starts from: pushed with PostChat, or asked for.

Pushed: every worker hears every push (`push.chat.context.*`, `PushedContexts.hear`); the one
that gets the request takes its context, and the others' copies expire. A push is used only
for a request's first delivery: it is the thread as of PostChat's commit, which a redelivery
(whose first worker may have answered already) must not trust. The same request published
again (the relay republishing after a crash) is dropped by EVENTS' duplicate window, which
outlasts `ttl`. A cancel recorded after the push is covered by `InFlight`, which remembers
cancels heard for answers not picked up yet. While NATS is away, pushes and cancels may be
missed: everything kept is forgotten on a disconnect, and the worker asks. Kept as bytes,
parsed only by the worker that takes one.

Asked: `qry.chat.context`, with the user's own credentials for the thread's provider; a
redelivery also reads back the newest token of the answer at the same time (both are on the
way to the first token), so it answers as the attempt after any an earlier delivery started,
its `start` fenced on that token (`fence`: its stream sequence, 0 when there is none).
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal
from uuid import UUID

import structlog
from nats.aio.msg import Msg

from chat_worker.answering.token_stream import TokenStreams, next_attempt
from chat_worker.credentials import CredentialResolver
from chat_worker.providers.base import ProviderCredentials, ProviderError
from chat_worker.threads_client import Refused, ThreadsClient, ThreadsUnavailable
from contracts.base import Envelope
from contracts.errors import ErrorCode
from contracts.events import AssistantMessageRequested
from contracts.queries import GetChatContext
from contracts.views import ChatContextView

log = structlog.get_logger(__name__)


class PushedContexts:
    def __init__(
        self, ttl: float, max_bytes: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.max_bytes = max_bytes
        self.clock = clock
        self._kept: OrderedDict[str, tuple[float, bytes]] = OrderedDict()  # oldest first
        self._bytes = 0

    async def hear(self, msg: Msg) -> None:
        """The push listener: kept under the message id that ends the subject."""
        self.put(msg.subject.rpartition(".")[2], msg.data)

    def put(self, message_id: str, payload: bytes) -> None:
        if self.ttl <= 0 or len(payload) > self.max_bytes:
            return
        now = self.clock()
        self._drop(self._kept.pop(message_id, None))
        self._kept[message_id] = (now + self.ttl, payload)
        self._bytes += len(payload)
        while self._kept:
            expires, _ = next(iter(self._kept.values()))
            if expires > now and self._bytes <= self.max_bytes:
                break
            self._drop(self._kept.popitem(last=False)[1])

    def take(self, message_id: UUID) -> bytes | None:
        """The context pushed for this message, once; None if none arrived or it expired."""
        kept = self._kept.pop(str(message_id), None)
        self._drop(kept)
        if kept is None or kept[0] <= self.clock():
            return None
        return kept[1]

    async def forget_all(self) -> None:
        """NATS disconnected: what was pushed meanwhile (or cancelled) may be missed."""
        self._kept.clear()
        self._bytes = 0

    def _drop(self, kept: tuple[float, bytes] | None) -> None:
        if kept is not None:
            self._bytes -= len(kept[1])

    def __len__(self) -> int:
        return len(self._kept)


@dataclass(frozen=True)
class AnswerContext:
    view: ChatContextView
    first_attempt: int
    source: Literal["pushed", "asked"]
    creds: ProviderCredentials | ProviderError  # the error the answer fails with
    fence: int = 0  # stream sequence of the answer's newest token when this delivery began

    @property
    def finished(self) -> bool:
        """Already answered (a redelivery after a crash that came after the outcome)."""
        return self.view.message_status != "streaming"


class ContextSource:
    def __init__(
        self,
        pushed: PushedContexts,
        threads: ThreadsClient,
        credentials: CredentialResolver,
        streams: TokenStreams,
    ) -> None:
        self.pushed = pushed
        self.threads = threads
        self.credentials = credentials
        self.streams = streams

    async def for_delivery(
        self, req: AssistantMessageRequested, meta: Envelope, delivered: int
    ) -> AnswerContext | None:
        """None when the thread or message is gone (deleted while queued)."""
        view = self._pushed(req) if delivered == 1 else None
        if view is not None:
            return AnswerContext(view, req.attempt, "pushed", self._creds(req.provider, view))
        previous = (
            asyncio.create_task(self.streams.newest(req.thread_id, req.message_id))
            if delivered > 1  # only a redelivery can find tokens of an earlier attempt
            else None
        )
        try:
            view = await self._ask(req, meta)
            last = await previous if previous is not None else None
        finally:
            if previous is not None and not previous.done():
                previous.cancel()
        if view is None:
            return None
        first = next_attempt(req.attempt, last[1] if last is not None else None)
        fence = last[0] if last is not None else 0
        return AnswerContext(view, first, "asked", self._creds(req.provider, view), fence)

    async def stored(
        self, req: AssistantMessageRequested, meta: Envelope
    ) -> ChatContextView | None:
        """The message as stored now (its outcome, once recorded)."""
        return await self._ask(req, meta)

    def _pushed(self, req: AssistantMessageRequested) -> ChatContextView | None:
        payload = self.pushed.take(req.message_id)
        if payload is None:
            return None
        try:
            view = ChatContextView.model_validate_json(payload)
        except ValueError:
            log.warning("malformed chat context push ignored")
            return None
        mine = view.message is not None and view.message.id == req.message_id
        if not mine or view.thread.id != req.thread_id or view.message_status != "streaming":
            return None
        return view

    async def _ask(self, req: AssistantMessageRequested, meta: Envelope) -> ChatContextView | None:
        wants_own = self.credentials.needs_lookup(req.provider)
        query = GetChatContext(
            meta=meta,
            thread_id=req.thread_id,
            message_id=req.message_id,
            credentials_for=req.provider if wants_own else None,
        )
        try:
            return await self.threads.call(query)
        except Refused as refused:
            if refused.code == ErrorCode.NOT_FOUND:
                return None
            raise ThreadsUnavailable(f"chat context: {refused.code}") from refused

    def _creds(self, provider: str, view: ChatContextView) -> ProviderCredentials | ProviderError:
        try:
            return self.credentials.combine(provider, view.credentials)
        except ProviderError as err:
            return err
