"""Benchmark: what the context budget costs on the way to the first token.

Starts its own Postgres and NATS (like the tests), a fresh migrated database, the threads
service, one chat worker and a gateway as processes; creates two echo threads with the same
`context_window` (8,000 tokens) through HTTP and fills them through the threads service's own
PostMessage handler: one with 10 messages, one with 2,000 (about 90 tokens each, so the
budget leaves most of that thread out). Then times, over `--chats` sequential chats on each,
POST /api/threads/{id}/chat to its first `token` event: the ancestors read (2,000 rows, too big
to push with the post, so the worker asks), counted and truncated before the provider is
called. Every chat adds two messages to its thread.

Ends with one line: RESULT ttft_10_ms=<p50> ttft_2000_ms=<p50> overhead_ms=<difference>.

Run: `uv run python benchmarks/bench_context.py [--messages 2000 --chats 40]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402
from tests.support.database import create_migrated_database  # noqa: E402
from tests.support.servers import infrastructure  # noqa: E402
from tests.support.sse_client import events  # noqa: E402
from tests.support.stack import start_stack  # noqa: E402

from benchmarks.bench_list import percentile  # noqa: E402
from benchmarks.report import write_section  # noqa: E402
from contracts.base import Envelope  # noqa: E402
from contracts.commands import PostMessage  # noqa: E402
from threads.handlers import post_message  # noqa: E402
from threads.projections import default_projector  # noqa: E402
from threads.store.unit_of_work import UnitOfWork  # noqa: E402

WINDOW = 8000
TEXT = " ".join(["the budget keeps the newest whole turns of a long thread"] * 5)


async def seed(database_url: str, user_id: uuid.UUID, thread_id: uuid.UUID, n: int) -> None:
    engine = create_async_engine(database_url, pool_size=2)
    work = UnitOfWork(engine, default_projector())
    try:
        for i in range(n):
            cmd = PostMessage(
                meta=Envelope(user_id=user_id),
                thread_id=thread_id,
                message_id=uuid.uuid4(),
                role="user" if i % 2 == 0 else "assistant",
                content=f"{i}: {TEXT}",
            )
            assert (await work.run(cmd, post_message.handle)).ok
    finally:
        await engine.dispose()


async def first_token_ms(client: httpx.AsyncClient, headers: dict[str, str], tid: str) -> float:
    start = time.perf_counter()
    first = None
    async with client.stream(
        "POST", f"/api/threads/{tid}/chat", json={"content": "and next?"}, headers=headers
    ) as response:
        assert response.status_code == 200
        async for ev in events(response):
            if ev.event == "token" and first is None:
                first = (time.perf_counter() - start) * 1000
            if ev.event in ("message_end", "error", "cancelled"):
                assert ev.event == "message_end", ev.data
                break
    assert first is not None
    return first


async def measure(
    base_url: str, database_url: str, args: argparse.Namespace
) -> tuple[dict[int, tuple[float, float]], dict[str, object]]:
    """First-token p50 and p99 by thread size, and the long thread's last `metadata.context`."""
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        email = f"context-{uuid.uuid4().hex[:8]}@example.com"
        r = await client.post(
            "/api/auth/register", json={"email": email, "password": "correct horse"}
        )
        headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
        user_id = uuid.UUID((await client.get("/api/me", headers=headers)).json()["id"])
        threads: dict[int, str] = {}
        for size in (10, args.messages):
            body = {"title": f"{size}", "model_provider": "echo", "context_window": WINDOW}
            tid = (await client.post("/api/threads", json=body, headers=headers)).json()["id"]
            await seed(database_url, user_id, uuid.UUID(tid), size)
            threads[size] = tid
        for tid in threads.values():  # warm: connections, caches, the first answer
            for _ in range(3):
                await first_token_ms(client, headers, tid)
        samples: dict[int, list[float]] = {size: [] for size in threads}
        for _ in range(args.chats):  # interleaved, so both see the same machine
            for size, tid in threads.items():
                samples[size].append(await first_token_ms(client, headers, tid))
        r = await client.get(f"/api/threads/{threads[args.messages]}/messages", headers=headers)
        context = r.json()["messages"][-1]["metadata"]["context"]
        print(f"the {args.messages}-message thread's last answer: context {context}")
        result: dict[int, tuple[float, float]] = {}
        for size, values in samples.items():
            result[size] = percentile(values, 0.5), percentile(values, 0.99)
            p50, p99 = result[size]
            print(f"  {size:>5} messages: first token p50 {p50:8.2f} ms  p99 {p99:8.2f}")
        return result, context


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--chats", type=int, default=40)
    args = parser.parse_args()
    load_start = os.getloadavg()[0]
    with infrastructure() as infra:
        database_url = create_migrated_database(infra.admin_dsn, prefix="sb_bench")
        stack = start_stack(infra, database_url, Path(tempfile.mkdtemp(prefix="context-")))
        try:
            figures, context = asyncio.run(measure(stack.base_url, database_url, args))
        finally:
            stack.stop()
    small, large = figures[10][0], figures[args.messages][0]
    result = (
        f"RESULT ttft_10_ms={small:.2f} ttft_{args.messages}_ms={large:.2f} "
        f"overhead_ms={large - small:.2f}"
    )
    rows = [
        f"| {size:,} messages | {p50:.1f} | {p99:.1f} |" for size, (p50, p99) in figures.items()
    ]
    write_section(
        "Context budget (`make bench-context`)",
        [
            f"Two echo threads with `context_window` {WINDOW:,} tokens: one of 10 messages, one "
            f"of {args.messages:,} (about 90 tokens each, seeded through the threads service's "
            f"PostMessage handler). {args.chats} chats on each, interleaved, after 3 warm-up "
            "chats; POST /api/threads/{id}/chat to the first `token` event through gateway, "
            "NATS, threads service and one chat worker. The long thread's last answer carried "
            f"`metadata.context` `{json.dumps(context)}`.",
            "",
            "| thread | first token p50 ms | p99 ms |",
            "| --- | ---: | ---: |",
            *rows,
            "",
            f"Overhead of the {args.messages:,}-message thread: {large - small:.1f} ms at p50: "
            "the worker asks for the context (a history this long is never pushed with the "
            "post; the push does not even read it once its texts are over "
            "`THREADS_CONTEXT_PUSH_MAX_BYTES`); PostgreSQL reads the whole ancestor path and "
            "writes it as JSON, which the threads service sends on as it is and the worker "
            "validates before the budget leaves most of it out. Load average "
            f"{load_start:.1f} when the run began, {os.getloadavg()[0]:.1f} when it ended.",
            "",
            f"`{result}`",
        ],
        key="bench-context",
    )
    print(result)


if __name__ == "__main__":
    main()
