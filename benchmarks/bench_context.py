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


async def measure(base_url: str, database_url: str, args: argparse.Namespace) -> dict[int, float]:
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
        result = {}
        for size, values in samples.items():
            result[size] = percentile(values, 0.5)
            p99 = percentile(values, 0.99)
            print(f"  {size:>5} messages: first token p50 {result[size]:8.2f} ms  p99 {p99:8.2f}")
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--chats", type=int, default=40)
    args = parser.parse_args()
    with infrastructure() as infra:
        database_url = create_migrated_database(infra.admin_dsn, prefix="sb_bench")
        stack = start_stack(infra, database_url, Path(tempfile.mkdtemp(prefix="context-")))
        try:
            p50 = asyncio.run(measure(stack.base_url, database_url, args))
        finally:
            stack.stop()
    small, large = p50[10], p50[args.messages]
    print(
        f"RESULT ttft_10_ms={small:.2f} ttft_{args.messages}_ms={large:.2f} "
        f"overhead_ms={large - small:.2f}"
    )


if __name__ == "__main__":
    main()
