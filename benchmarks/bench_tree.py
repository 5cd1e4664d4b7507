"""Benchmark: the active path of a thread with 1,000 messages on 50 branches.

Starts its own Postgres and NATS (like the tests), a fresh migrated database, the threads
service and gateway as processes; registers a user and creates a thread through HTTP, then
posts the messages through the threads service's own handlers (PostMessage with `parent_id`:
a first branch from the root, each next one from an earlier message of the tree). Times, over
`--requests` sequential requests through the gateway, NATS and the threads service:
GET /api/threads/{id} (the thread with its active path) and GET .../messages (the active path),
and GET .../messages?path=all for comparison.

Ends with one line: RESULT tree_path_p99_ms=<thread detail> tree_messages_p99_ms=<messages>
(target: under 25 ms p99).

Run: `uv run python benchmarks/bench_tree.py [--messages 1000 --branches 50]`.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402
from tests.support.database import create_migrated_database  # noqa: E402
from tests.support.servers import infrastructure  # noqa: E402

from benchmarks.bench_list import Timing, start_stack, timed  # noqa: E402
from contracts.base import Envelope  # noqa: E402
from contracts.commands import PostMessage  # noqa: E402
from threads.handlers import post_message  # noqa: E402
from threads.projections import default_projector  # noqa: E402
from threads.store.unit_of_work import UnitOfWork  # noqa: E402


async def seed(database_url: str, user_id: uuid.UUID, thread_id: uuid.UUID, n: int, b: int) -> int:
    """`n` messages on `b` branches; returns the active path's length."""
    engine = create_async_engine(database_url, pool_size=2)
    work = UnitOfWork(engine, default_projector())
    rng = random.Random(15)
    made: list[uuid.UUID] = []
    per_branch = n // b
    try:
        for branch in range(b):
            parent = rng.choice(made[: max(1, len(made) // 2)]) if made else None
            for i in range(per_branch if branch < b - 1 else n - len(made)):
                mid = uuid.uuid4()
                cmd = PostMessage(
                    meta=Envelope(user_id=user_id),
                    thread_id=thread_id,
                    message_id=mid,
                    role="user" if (len(made) + i) % 2 == 0 else "assistant",
                    content=" ".join(rng.choices(("tree", "branch", "leaf", "root"), k=40)),
                    parent_id=parent,
                )
                assert (await work.run(cmd, post_message.handle)).ok
                made.append(mid)
                parent = mid
    finally:
        await engine.dispose()
    return len(made)


async def measure(base_url: str, database_url: str, args: argparse.Namespace) -> list[Timing]:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        email = f"tree-{uuid.uuid4().hex[:8]}@example.com"
        r = await client.post(
            "/api/auth/register", json={"email": email, "password": "correct horse"}
        )
        headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
        user_id = uuid.UUID((await client.get("/api/me", headers=headers)).json()["id"])
        r = await client.post(
            "/api/threads", json={"title": "tree", "model_provider": "echo"}, headers=headers
        )
        tid = uuid.UUID(r.json()["id"])
        made = await seed(database_url, user_id, tid, args.messages, args.branches)
        detail = (await client.get(f"/api/threads/{tid}", headers=headers)).json()
        print(
            f"thread: {made} messages on {args.branches} branches, message_count "
            f"{detail['message_count']}, active path {len(detail['messages'])} messages"
        )

        def get(url: str) -> Callable[[], Awaitable[None]]:
            async def call() -> None:
                r = await client.get(url, headers=headers)
                assert r.status_code == 200, r.text

            return call

        base = f"/api/threads/{tid}"
        return [
            await timed("GET thread (active path)", args.requests, get(base)),
            await timed("GET messages (active path)", args.requests, get(f"{base}/messages")),
            await timed("GET messages?path=all", args.requests, get(f"{base}/messages?path=all")),
        ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--branches", type=int, default=50)
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()
    with infrastructure() as infra:
        database_url = create_migrated_database(infra.admin_dsn, prefix="sb_bench")
        stack = start_stack(infra.nats_url, database_url, Path(tempfile.mkdtemp(prefix="tree-")))
        try:
            path, listed, _ = asyncio.run(measure(stack.base_url, database_url, args))
        finally:
            stack.stop()
    print(f"RESULT tree_path_p99_ms={path.p99:.2f} tree_messages_p99_ms={listed.p99:.2f}")


if __name__ == "__main__":
    main()
