"""Sending an import's batches, one after the other: each batch is one command and one
transaction in the threads service, so an import holds at most one of its request slots at a
time and everyone else's requests go in between. A batch that gets no answer is sent again
with the same command id (nothing applied twice); the file was read whole before the first
one, so a malformed file stores nothing."""

from __future__ import annotations

import asyncio
from uuid import UUID

import structlog
from fastapi import HTTPException

from contracts.base import Envelope
from contracts.commands import ImportConversation, ImportConversations
from contracts.views import ImportResultView
from gateway.bus import Bus

log = structlog.get_logger(__name__)
ATTEMPTS = 5


class ImportJob:
    def __init__(
        self,
        bus: Bus,
        timeout: float,
        meta: Envelope,
        command_id: str,
        import_id: UUID,
        source: str,
        batches: list[list[ImportConversation]],
        **binding: object,
    ) -> None:
        self.bus, self.timeout, self.meta, self.command_id = bus, timeout, meta, command_id
        self.import_id, self.source, self.batches, self.binding = (
            import_id,
            source,
            batches,
            binding,
        )
        self.total = sum(len(b) for b in batches)

    def command(self, n: int) -> ImportConversations:
        return ImportConversations(
            meta=self.meta,
            command_id=f"{self.command_id}:{n}",
            import_id=self.import_id,
            source=self.source,  # type: ignore[arg-type]
            total=self.total,
            first=n == 0,
            conversations=self.batches[n],
            **self.binding,  # type: ignore[arg-type]
        )

    async def send(self, n: int) -> ImportResultView:
        for attempt in range(ATTEMPTS):
            try:
                return await self.bus.call(self.command(n), self.timeout)
            except HTTPException as exc:
                if exc.status_code != 503 or attempt == ATTEMPTS - 1:
                    raise
                await asyncio.sleep(0.5 * 2**attempt)
        raise AssertionError("unreachable")

    async def run(self, start: int = 0) -> ImportResultView:
        result = ImportResultView(threads=[], skipped=[])
        for n in range(start, len(self.batches)):
            part = await self.send(n)
            result.threads.extend(part.threads)
            result.skipped.extend(part.skipped)
        return result

    async def run_in_background(self) -> None:
        """The rest of the batches after the first; `GET /api/imports/{id}` shows progress."""
        try:
            await self.run(start=1)
        except Exception as exc:  # the client has its 202 already: say it in the log
            detail = exc.detail if isinstance(exc, HTTPException) else type(exc).__name__
            log.warning("import stopped", import_id=str(self.import_id), error=str(detail))
