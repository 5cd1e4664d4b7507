"""Benchmark: GET /api/threads for one user with 100,000 threads and 1,000,000 messages.

Starts its own Postgres and NATS (like the tests), a fresh migrated database, and the threads
service and gateway as processes; registers a user and 50 projects through HTTP, bulk-seeds the
threads and messages (`list_seed`: the handlers' events, read models built from them), checks a
sample against the live projections, then times, each over `--requests` sequential requests:

- the real thing through the gateway, NATS and the threads service: page 1, a deep page
  (offset), the same deep page by cursor, a project filter, a title search;
- the naive way, straight against Postgres (no HTTP, no NATS): the same page of threads, then
  each thread's messages loaded and counted with len(), as a plain ORM would.

Writes its section of docs/benchmarks.md and ends with one line:
RESULT list_p99_ms=<page 1> naive_p99_ms=<naive page 1> deep_p99_ms=<deep> search_p99_ms=<q>

Run: `uv run python benchmarks/bench_list.py` (or `make bench-list`); `--threads 10000
--messages 100000` for a quick run.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import platform
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
import httpx  # noqa: E402
from sqlalchemy import func, select  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine  # noqa: E402
from tests.support.database import create_migrated_database  # noqa: E402
from tests.support.servers import free_port, infrastructure  # noqa: E402
from tests.support.stack import (  # noqa: E402
    ServiceProcess,
    Stack,
    executable,
    service_env,
    wait_ready,
)

from benchmarks.list_report import write_section  # noqa: E402
from benchmarks.list_seed import Plan, build_read_models, copy_events  # noqa: E402
from threads.projections import default_projector  # noqa: E402
from threads.queries.threads import encode_cursor  # noqa: E402
from threads.store.event_store import load_stream  # noqa: E402
from threads.store.tables import messages, threads  # noqa: E402

PAGE_SIZE = 25
DEEP_PAGE = 2000  # at 25 a page: thread 50,000 of 100,000 (halfway for smaller runs)
SEARCH = "glacier"


@dataclass
class Timing:
    name: str
    p50: float
    p99: float
    n: int


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


async def timed(name: str, n: int, call: Callable[[], Awaitable[None]]) -> Timing:
    for _ in range(min(20, n)):  # warm caches and connections
        await call()
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - start) * 1000)
    timing = Timing(name, percentile(samples, 0.5), percentile(samples, 0.99), n)
    print(f"  {name:<34} p50 {timing.p50:8.2f} ms   p99 {timing.p99:8.2f} ms")
    return timing


def start_stack(
    nats_url: str, database_url: str, log_dir: Path, extra_env: dict[str, str] | None = None
) -> Stack:
    port = free_port()
    env = service_env(
        {
            "THREADS_DATABASE_URL": database_url,
            "THREADS_NATS_URL": nats_url,
            "GATEWAY_NATS_URL": nats_url,
            "GATEWAY_PORT": str(port),
            "GATEWAY_ARGON2_MEMORY_KIB": "1024",
            "GATEWAY_ARGON2_TIME_COST": "1",
            **(extra_env or {}),
        }
    )
    stack = Stack(base_url=f"http://127.0.0.1:{port}")
    for name, argv in (
        ("threads", [executable("switchboard-threads"), "serve"]),
        ("gateway", [executable("switchboard-gateway")]),
    ):
        svc = ServiceProcess(name, argv, env, log_dir / f"{name}.log")
        svc.start()
        stack.services[name] = svc
    wait_ready(stack.base_url, list(stack.services.values()))
    return stack


async def verify_sample(engine: AsyncEngine, thread_ids: list[uuid.UUID]) -> None:
    """The bulk-built rows of a sample of threads equal what the live projector builds from
    the same events (checked inside a transaction that is rolled back)."""
    projector = default_projector()

    async def rows(conn: AsyncConnection) -> list[tuple[object, ...]]:
        out: list[tuple[object, ...]] = []
        for tid in thread_ids:
            out += map(tuple, await conn.execute(select(threads).where(threads.c.id == tid)))
            query = select(messages).where(messages.c.thread_id == tid).order_by(messages.c.seq)
            out += map(tuple, await conn.execute(query))
        return out

    async with engine.connect() as conn:
        tx = await conn.begin()
        bulk = await rows(conn)
        for tid in thread_ids:
            await conn.execute(messages.delete().where(messages.c.thread_id == tid))
            await conn.execute(threads.delete().where(threads.c.id == tid))
            _, stored = await load_stream(conn, f"thread-{tid}")
            for event in stored:
                await projector(conn, event)
        live = await rows(conn)
        await tx.rollback()
    if bulk != live:
        raise SystemExit("bulk-built read models differ from the live projections")


async def naive_page(
    conn: AsyncConnection,
    user_id: uuid.UUID,
    offset: int,
    project_id: uuid.UUID | None = None,
    q: str | None = None,
) -> list[dict[str, object]]:
    """As a plain ORM would: the page of threads, then each thread's messages, counted."""
    where = [threads.c.user_id == user_id]
    if project_id is not None:
        where.append(threads.c.project_id == project_id)
    if q:
        where.append(threads.c.title.ilike(f"%{q}%"))
    await conn.scalar(select(func.count()).select_from(threads).where(*where))
    page = (
        await conn.execute(
            select(threads)
            .where(*where)
            .order_by(threads.c.last_activity_at.desc(), threads.c.id.desc())
            .offset(offset)
            .limit(PAGE_SIZE)
        )
    ).all()
    out = []
    for row in page:
        loaded = (await conn.execute(select(messages).where(messages.c.thread_id == row.id))).all()
        out.append({**row._mapping, "message_count": len(loaded)})
    return out


async def tune_for_bulk_load(admin_dsn: str) -> None:
    """Our own throwaway instance: fewer checkpoints while a million rows go in."""
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute("ALTER SYSTEM SET max_wal_size = '8GB'")
        await admin.execute("SELECT pg_reload_conf()")
    finally:
        await admin.close()


async def measure_with_engine(
    args: argparse.Namespace, base_url: str, database_url: str, t0: float
) -> dict[str, Timing]:
    engine = create_async_engine(database_url, pool_size=4)
    try:
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
            return await measure(args, client, engine, database_url, t0)
    finally:
        await engine.dispose()


def run(args: argparse.Namespace) -> None:
    t0 = time.perf_counter()
    with infrastructure() as infra:
        if infra.postgres is not None:
            asyncio.run(tune_for_bulk_load(infra.admin_dsn))
        database_url = create_migrated_database(infra.admin_dsn, prefix="sb_bench")
        log_dir = Path(tempfile.mkdtemp(prefix="bench-list-"))
        stack = start_stack(infra.nats_url, database_url, log_dir)
        try:
            timings = asyncio.run(measure_with_engine(args, stack.base_url, database_url, t0))
        finally:
            stack.stop()
    report(args, timings)


async def measure(
    args: argparse.Namespace,
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    database_url: str,
    t0: float,
) -> dict[str, Timing]:
    email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
    r = await client.post("/api/auth/register", json={"email": email, "password": "benchmark!"})
    r.raise_for_status()
    client.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
    user_id = uuid.UUID(r.json()["user"]["id"])
    project_ids = []
    for i in range(50):
        r = await client.post("/api/projects", json={"name": f"Project {i}"})
        r.raise_for_status()
        project_ids.append(uuid.UUID(r.json()["id"]))

    print(f"seeding {args.threads:,} threads and {args.messages:,} messages ...", flush=True)
    seed_start = time.perf_counter()
    conn = await asyncpg.connect(database_url.replace("+asyncpg", ""))
    try:
        await conn.execute("SET synchronous_commit = off")
        start = await copy_events(conn, Plan(user_id, project_ids, args.threads, args.messages))
        print(f"  events copied in {time.perf_counter() - seed_start:.0f} s", flush=True)
        await build_read_models(conn, start, user_id)
        for table in ("events", "messages", "threads", "projects"):
            await conn.execute(f"VACUUM (ANALYZE) {table}")
        sample = [
            r["id"]
            for r in await conn.fetch(
                "SELECT id FROM threads WHERE user_id = $1 ORDER BY random() LIMIT 20", user_id
            )
        ]
        counts = await conn.fetchrow(
            "SELECT (SELECT count(*) FROM threads WHERE user_id = $1) AS threads,"
            " (SELECT sum(message_count) FROM threads WHERE user_id = $1) AS counted,"
            " (SELECT count(*) FROM messages WHERE user_id = $1) AS messages,"
            " (SELECT thread_count FROM user_thread_counts WHERE user_id = $1) AS total,"
            " (SELECT sum(thread_count) FROM projects WHERE user_id = $1) AS in_projects",
            user_id,
        )
        deep_row = await conn.fetchrow(
            "SELECT id, last_activity_at FROM threads WHERE user_id = $1"
            " ORDER BY last_activity_at DESC, id DESC OFFSET $2 LIMIT 1",
            user_id,
            (args.deep_page - 1) * PAGE_SIZE - 1,
        )
    finally:
        await conn.close()
    seed_seconds = time.perf_counter() - seed_start
    assert counts is not None and deep_row is not None
    assert counts["threads"] == counts["total"] == args.threads, counts
    assert counts["in_projects"] == args.threads // 5, counts
    assert counts["counted"] == counts["messages"] == args.messages, counts
    await verify_sample(engine, sample)
    print(f"  seeded and verified in {seed_seconds:.0f} s", flush=True)

    n = args.requests
    project = project_ids[0]
    cursor = encode_cursor(deep_row["last_activity_at"], deep_row["id"])

    def get(params: dict[str, str | int]) -> Callable[[], Awaitable[None]]:
        async def call() -> None:
            response = await client.get("/api/threads", params=params)
            response.raise_for_status()

        return call

    def naive(offset: int, **kw: object) -> Callable[[], Awaitable[None]]:
        async def call() -> None:
            async with engine.connect() as conn:
                await naive_page(conn, user_id, offset, **kw)  # type: ignore[arg-type]

        return call

    deep_offset = (args.deep_page - 1) * PAGE_SIZE
    print(f"timing, {n} requests each:")
    load_before = os.getloadavg()[0]
    timings = {
        "page1": await timed("page 1 (stack)", n, get({"page": 1, "page_size": PAGE_SIZE})),
        "deep": await timed(
            f"page {args.deep_page} (stack)",
            n,
            get({"page": args.deep_page, "page_size": PAGE_SIZE}),
        ),
        "cursor": await timed(
            f"page {args.deep_page} by cursor (stack)", n, get({"cursor": cursor, "page_size": 25})
        ),
        "project": await timed("project filter (stack)", n, get({"project_id": str(project)})),
        "search": await timed(f"title search q={SEARCH} (stack)", n, get({"q": SEARCH})),
        "naive_page1": await timed("page 1 (naive)", n, naive(0)),
        "naive_deep": await timed(f"page {args.deep_page} (naive)", n, naive(deep_offset)),
        "naive_project": await timed("project filter (naive)", n, naive(0, project_id=project)),
        "naive_search": await timed("title search (naive)", n, naive(0, q=SEARCH)),
    }
    timings["_seed"] = Timing("seed", seed_seconds, time.perf_counter() - t0, 0)
    timings["_load"] = Timing("load", load_before, os.getloadavg()[0], 0)
    return timings


def report(args: argparse.Namespace, t: dict[str, Timing]) -> None:
    rows = [
        ("page 1", t["page1"], t["naive_page1"]),
        (f"page {args.deep_page} (offset)", t["deep"], t["naive_deep"]),
        (f"page {args.deep_page} (cursor)", t["cursor"], None),
        ("project filter", t["project"], t["naive_project"]),
        (f"title search `q={SEARCH}`", t["search"], t["naive_search"]),
    ]
    write_section(
        rows,
        threads=args.threads,
        messages=args.messages,
        requests=args.requests,
        seed_seconds=t["_seed"].p50,
        total_seconds=t["_seed"].p99,
        machine=f"{os.cpu_count()} CPUs ({platform.machine()}), Python {platform.python_version()}",
        load=(t["_load"].p50, t["_load"].p99),
    )
    print(
        f"RESULT list_p99_ms={t['page1'].p99:.2f} naive_p99_ms={t['naive_page1'].p99:.2f}"
        f" deep_p99_ms={t['deep'].p99:.2f} search_p99_ms={t['search'].p99:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=300, help="per query (>= 200)")
    args = parser.parse_args()
    args.deep_page = min(DEEP_PAGE, max(1, args.threads // (2 * PAGE_SIZE)))
    run(args)


if __name__ == "__main__":
    main()
