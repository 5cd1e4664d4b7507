"""PostChat and CompleteAssistantMessage run in process against an embedded PostgreSQL: the
statements each sends, its latency and the process's CPU per command, the projections' share of
the way to the first token (no NATS, no gateway).

Each round posts a chat in a thread of a project (so every read-model row a chat moves is there:
the two messages, the thread's count and activity, the project's activity), then completes the
answer. Prints medians and p90s over `--rounds` after `--warmup` rounds, and one RESULT line.

    uv run --no-sync python benchmarks/bench_commands.py [--rounds 400]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.support.database import create_migrated_database  # noqa: E402
from tests.support.servers import free_port  # noqa: E402

from benchmarks.bench_replay import wait_accepting  # noqa: E402
from contracts.base import Envelope  # noqa: E402
from contracts.commands import (  # noqa: E402
    CompleteAssistantMessage,
    CreateProject,
    CreateThread,
    PostChat,
    RegisterUser,
)
from devstack.postgres import start_postgres  # noqa: E402
from threads.handlers import (  # noqa: E402
    complete_assistant_message,
    create_project,
    create_thread,
    post_chat,
    register_user,
)
from threads.projections import default_projector  # noqa: E402
from threads.store.unit_of_work import UnitOfWork  # noqa: E402


class Statements:
    """Counts the statements the engine sends."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.n = 0
        event.listen(engine.sync_engine, "before_cursor_execute", self._count)

    def _count(self, *_: Any) -> None:
        self.n += 1


async def setup(uow: UnitOfWork) -> tuple[Envelope, uuid.UUID]:
    user_id = uuid.uuid4()
    meta = Envelope(user_id=user_id)
    reply = await uow.run(
        RegisterUser(user_id=user_id, email=f"{user_id}@bench.local", password_hash="h"),
        register_user.handle,
    )
    assert reply.ok, reply.error
    project_id = uuid.uuid4()
    reply = await uow.run(
        CreateProject(meta=meta, project_id=project_id, name="bench"), create_project.handle
    )
    assert reply.ok, reply.error
    thread_id = uuid.uuid4()
    reply = await uow.run(
        CreateThread(
            meta=meta,
            thread_id=thread_id,
            project_id=project_id,
            provider="echo",
            model="echo",
        ),
        functools.partial(create_thread.handle, default_provider="echo"),
    )
    assert reply.ok, reply.error
    return meta, thread_id


async def one_round(
    uow: UnitOfWork, meta: Envelope, thread_id: uuid.UUID, counter: Statements
) -> tuple[float, float, int, float, float, int]:
    post = PostChat(
        meta=meta,
        thread_id=thread_id,
        user_message_id=uuid.uuid4(),
        assistant_message_id=uuid.uuid4(),
        content="hello there, how are you today?",
    )
    counter.n, cpu, wall = 0, time.process_time(), time.perf_counter()
    reply = await uow.run(post, post_chat.handle)
    post_wall, post_cpu, post_statements = (
        time.perf_counter() - wall,
        time.process_time() - cpu,
        counter.n,
    )
    assert reply.ok, reply.error
    complete = CompleteAssistantMessage(
        meta=meta,
        thread_id=thread_id,
        message_id=post.assistant_message_id,
        content="fine, thank you",
        finish_reason="stop",
        usage={"input_tokens": 12, "output_tokens": 4},
    )
    counter.n, cpu, wall = 0, time.process_time(), time.perf_counter()
    reply = await uow.run(complete, complete_assistant_message.handle)
    assert reply.ok, reply.error
    return (
        post_wall,
        post_cpu,
        post_statements,
        time.perf_counter() - wall,
        time.process_time() - cpu,
        counter.n,
    )


def p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10)[-1]


async def run(url: str, rounds: int, warmup: int) -> None:
    engine = create_async_engine(url, pool_size=2, max_overflow=0)
    counter = Statements(engine)
    uow = UnitOfWork(engine, default_projector())
    try:
        meta, thread_id = await setup(uow)
        results = [await one_round(uow, meta, thread_id, counter) for _ in range(warmup + rounds)]
    finally:
        await engine.dispose()
    results = results[warmup:]
    for name, offset in (("PostChat", 0), ("CompleteAssistantMessage", 3)):
        wall = [r[offset] * 1000 for r in results]
        cpu = [r[offset + 1] * 1000 for r in results]
        statements = sorted({r[offset + 2] for r in results})
        print(
            f"{name:<25} statements {statements}  latency p50 {statistics.median(wall):.3f} ms"
            f" p90 {p90(wall):.3f} ms  CPU p50 {statistics.median(cpu):.3f} ms"
            f" p90 {p90(cpu):.3f} ms"
        )
    post = statistics.median(r[0] for r in results) * 1000
    done = statistics.median(r[3] for r in results) * 1000
    print(f"RESULT post_chat_ms={post:.3f} complete_ms={done:.3f} rounds={rounds}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=400)
    parser.add_argument("--warmup", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-commands-") as tmp:
        pg = start_postgres(
            Path(tmp) / "pg", free_port(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            asyncio.run(wait_accepting(pg.dsn))
            url = create_migrated_database(pg.dsn, "bench_commands")
            asyncio.run(run(url, args.rounds, args.warmup))
        finally:
            pg.stop()


if __name__ == "__main__":
    main()
