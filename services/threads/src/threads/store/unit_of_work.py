"""Runs one command: handler, inline projections, processed-command row, commit, reply.

Everything a command changes (events, outbox rows, read models, the processed-command row)
commits in one transaction or not at all. A version conflict reruns the handler on fresh state
a bounded number of times, then answers 409. Postgres being unreachable answers 503.

Once committed, the command's announcements (core NATS hints: PostChat's context push, see
`threads.chat_context_push`) are handed to `on_announce`, then its events to `on_commit` (the
relay): in that order, so a hint is on the wire before the events it goes with. Both hooks are
given to the constructor (`bootstrap.running_service` builds them together).

Idempotency costs no extra round trip on the common path: the first attempt does not look for
an earlier reply; the processed-command row it inserts at the end (or with the append, see
`HandlerContext.append`) collides with an earlier one (primary key), which rolls everything
back and reruns the attempt, which reads the earlier reply. A refusal looks the key up as it
records itself, so a key whose first run succeeded still answers with that first reply.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import structlog
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from contracts.base import Command, DomainEvent
from contracts.errors import ErrorCode
from contracts.replies import Reply
from observability.metrics import COMMAND_SECONDS, COMMANDS, EVENTS_APPENDED
from threads.domain.errors import DomainError
from threads.projections import Projector
from threads.store import event_store
from threads.store.event_store import ConcurrencyError, StoredEvent
from threads.store.tables import processed_commands

log = structlog.get_logger(__name__)

C = TypeVar("C", bound=Command[Any])


@dataclass
class HandlerContext(Generic[C]):
    """What a command handler gets: the open transaction and a way to append."""

    conn: AsyncConnection
    command: C
    project: Projector
    actor: str = "anonymous"
    appended: list[StoredEvent] = field(default_factory=list)
    announcements: list[tuple[str, bytes]] = field(default_factory=list)
    recorded: Reply | None = None  # the reply already in the processed-command row

    async def load(
        self, stream_id: str, types: Sequence[str] | None = None
    ) -> tuple[int, list[StoredEvent]]:
        return await event_store.load_stream(self.conn, stream_id, types)

    async def append(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[DomainEvent],
        *,
        reply: Reply | None = None,
    ) -> list[StoredEvent]:
        """Append and project. A handler whose reply is settled before it appends gives it
        here: the processed-command row then goes in with the events (one round trip fewer),
        and the handler must return that same reply."""
        processed = None
        if reply is not None and events:
            processed = _processed_row(self.actor, self.command, reply)
        stored = await event_store.append(
            self.conn,
            stream_id,
            expected_version,
            events,
            self.command.meta,
            self.command.command_id,
            processed=processed,
        )
        if processed is not None:
            self.recorded = reply
        await self.project.project_all(self.conn, stored)
        self.appended.extend(stored)
        return stored

    def announce(self, subject: str, payload: bytes) -> None:
        """Publish this on core NATS if (and once) the transaction commits: a hint that saves
        a listener a round trip, never the record (nobody may be listening)."""
        self.announcements.append((subject, payload))


Handler = Callable[[HandlerContext[C]], Awaitable[Reply]]


def _processed_row(actor: str, command: Command, reply: Reply) -> dict[str, Any]:
    return {
        "actor": actor,
        "command_id": command.command_id,
        "command_type": type(command).__name__,
        "reply": reply.model_dump(mode="json"),
    }


Announce = Callable[[list[tuple[str, bytes]]], None]
_PROCESSED = processed_commands.insert()  # built once; values come as parameters
UNIQUE_RETRYABLE = ("uq_users_email", "pk_processed_commands")
# deadlock_detected, lock_not_available, serialization_failure: rerun on fresh state
RETRYABLE_SQLSTATES = frozenset({"40P01", "55P03", "40001"})


def sqlstate(exc: BaseException) -> str | None:
    orig = getattr(exc, "orig", None)
    for candidate in (orig, getattr(orig, "__cause__", None)):
        code = getattr(candidate, "sqlstate", None)
        if isinstance(code, str):
            return code
    return None


def is_disconnect(exc: BaseException) -> bool:
    """A pooled connection turned out dead (the server restarted, the network dropped it).
    The pool then renews every connection, so one immediate rerun is worth it: connections
    are not pinged before each use, which would cost a round trip on every command."""
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def _is_unavailable(exc: BaseException) -> bool:
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, OSError | ConnectionError | asyncio.TimeoutError)


class UnitOfWork:
    def __init__(
        self,
        engine: AsyncEngine,
        project: Projector,
        *,
        retries: int = 5,
        on_commit: Callable[[list[StoredEvent]], None] | None = None,
        on_announce: Announce | None = None,
    ) -> None:
        self.engine = engine
        self.project = project
        self.retries = retries
        self.on_commit = on_commit
        self.on_announce = on_announce

    async def run(self, command: C, handler: Handler[C]) -> Reply:
        name = type(command).__name__
        with COMMAND_SECONDS.labels(name).time():
            reply = await self._run(command, handler)
        COMMANDS.labels(name, "ok" if reply.ok else reply.error.code if reply.error else "?").inc()
        return reply

    async def _run(self, command: C, handler: Handler[C]) -> Reply:
        actor = str(command.meta.user_id) if command.meta.user_id else "anonymous"
        reconnected = False
        try:
            for attempt in range(self.retries + 1):
                try:
                    return await self._attempt(actor, command, handler, look_up=attempt > 0)
                except ConcurrencyError:
                    log.info(
                        "version conflict, retrying",
                        command=type(command).__name__,
                        attempt=attempt + 1,
                    )
                except IntegrityError as exc:
                    if not any(name in str(exc.orig) for name in UNIQUE_RETRYABLE):
                        raise
                except DBAPIError as exc:
                    if is_disconnect(exc) and not reconnected:
                        # Rerun on a fresh connection. The lost attempt may have committed
                        # (the connection died during COMMIT): the rerun then finds its reply.
                        reconnected = True
                        log.info("database connection lost, retrying on a new one")
                        continue
                    if sqlstate(exc) not in RETRYABLE_SQLSTATES:
                        raise
                    log.info("transient database conflict, retrying", sqlstate=sqlstate(exc))
                await asyncio.sleep(random.uniform(0, 0.005 * 2**attempt))
            return Reply.failure(ErrorCode.CONFLICT, "Conflicting concurrent changes; try again")
        except DomainError as err:
            reply = Reply.failure(err.code, err.detail, err.retry_after)
            try:
                return await self._remember(actor, command, reply)
            except Exception as exc:
                if not _is_unavailable(exc):
                    raise
            return reply
        except Exception as exc:
            if _is_unavailable(exc):
                log.warning("database unavailable", error=type(exc).__name__)
                return Reply.failure(ErrorCode.UNAVAILABLE, "Database unavailable")
            raise

    async def _attempt(
        self, actor: str, command: C, handler: Handler[C], *, look_up: bool
    ) -> Reply:
        async with self.engine.begin() as conn:
            if look_up:
                previous = await _previous_reply(conn, actor, command)
                if previous is not None:
                    return previous
            ctx = HandlerContext(conn, command, self.project, actor)
            reply = await handler(ctx)
            if ctx.recorded is None:
                await conn.execute(_PROCESSED, _processed_row(actor, command, reply))
            elif ctx.recorded is not reply:
                raise RuntimeError(f"{type(command).__name__}: replied other than it recorded")
        for event in ctx.appended:
            EVENTS_APPENDED.labels(event.type).inc()
        if ctx.announcements and self.on_announce is not None:
            self.on_announce(ctx.announcements)
        if ctx.appended and self.on_commit is not None:
            self.on_commit(ctx.appended)
        return reply

    async def _remember(self, actor: str, command: Command, reply: Reply) -> Reply:
        """A refusal is remembered too, so a retried key gets the same answer; if the key
        already has an answer (the first run of this command got through), that one stands."""
        async with self.engine.begin() as conn:
            inserted = await conn.scalar(
                pg_insert(processed_commands)
                .values(**_processed_row(actor, command, reply))
                .on_conflict_do_nothing()
                .returning(processed_commands.c.command_id)
            )
            if inserted is None:
                previous = await _previous_reply(conn, actor, command)
                if previous is not None:
                    return previous
        return reply


async def _previous_reply(conn: AsyncConnection, actor: str, command: Command) -> Reply | None:
    """The reply recorded for this actor's command id, marked replayed; None if there is none."""
    previous = (
        await conn.execute(
            select(processed_commands.c.reply, processed_commands.c.command_type).where(
                processed_commands.c.actor == actor,
                processed_commands.c.command_id == command.command_id,
            )
        )
    ).first()
    if previous is None:
        return None
    if previous.command_type != type(command).__name__:
        # A client key reused for another kind of request: its first reply would not even
        # have the shape this request expects.
        return Reply.failure(
            ErrorCode.CONFLICT, "Idempotency-Key already used for a different request"
        )
    return Reply.model_validate(previous.reply).model_copy(update={"replayed": True})
