"""Coalescing: the provider's text as few, prompt deltas on the answer's token stream.

The first delta goes out at once (time to first token); later text is gathered until `chars`
characters or `interval` seconds, whichever comes first, and naturally while the previous publish
waits for its ack. Reasoning is gathered the same way into reasoning events; a change from one kind
to the other sends what was gathered, and the answer's first text goes out at once after reasoning
too (the moment a client folds the reasoning away). A cancel is looked at between two deltas, so
what was published is exactly what gets stored.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from chat_worker.answering.cancels import WAKE, CancelHandle
from chat_worker.answering.outcome import Outcome, streamed
from chat_worker.answering.token_stream import TokenStream
from chat_worker.providers.base import Delta, DeltaKind, ProviderError, StreamResult

END = object()  # put in the queue by the provider pump when its stream is done


@dataclass(frozen=True)
class Coalescing:
    interval: float  # seconds a delta may wait for more text; 0: every piece alone
    chars: int  # a delta goes out once it holds this many characters

    async def relay(
        self,
        queue: asyncio.Queue[object],
        tokens: TokenStream,
        result: StreamResult,
        first_out: asyncio.Event,
        cancel: CancelHandle,
    ) -> Outcome:
        """Publishes what the pump queues until it ends (the outcome `complete`), fails
        (raises its `ProviderError`, after publishing what came before), or is cancelled."""
        loop = asyncio.get_running_loop()
        buffer: list[str] = []
        kind: DeltaKind = "text"  # of what the buffer holds
        size = 0
        deadline = 0.0

        async def flush() -> None:
            nonlocal size
            if buffer:
                text = "".join(buffer)
                buffer.clear()
                size = 0
                try:
                    if kind == "text":
                        await tokens.delta(text)
                    else:
                        await tokens.reasoning_delta(text)
                finally:
                    first_out.set()

        while True:
            if cancel.requested:  # with what usage the provider reported so far, if any
                return streamed("cancelled", tokens, usage=result.usage)
            if not buffer:
                item = await queue.get()
            else:
                try:
                    item = queue.get_nowait()
                except asyncio.QueueEmpty:
                    remaining = deadline - loop.time()
                    if remaining <= 0:
                        await flush()
                        continue
                    try:
                        item = await asyncio.wait_for(queue.get(), remaining)
                    except TimeoutError:
                        await flush()
                        continue
            if item is WAKE:
                continue
            if item is END:
                await flush()
                return streamed(
                    "complete",
                    tokens,
                    finish_reason=result.finish_reason or "stop",
                    usage=result.usage,
                )
            if isinstance(item, ProviderError):
                await flush()  # what arrived before the error is part of the partial answer
                raise item
            assert isinstance(item, Delta)
            if item.kind != kind:
                await flush()
                kind = item.kind
            first = tokens.seq == 0 or (kind == "text" and not tokens.content and not buffer)
            buffer.append(item.text)
            size += len(item.text)
            if first or size >= self.chars or self.interval <= 0:
                await flush()
            elif len(buffer) == 1:
                deadline = loop.time() + self.interval
