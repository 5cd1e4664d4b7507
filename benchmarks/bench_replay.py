"""`make bench-replay`: replay throughput for N events (default 1,000,000) next to the raw speed
of reading the same events from PostgreSQL in the same run (the physical limit).

Seeds a fresh database with a realistic mix (users, projects, threads, and messages for the
rest) by COPYing event rows, exactly the shape the handlers append; then times
(1) reading every event row with asyncpg, decoding its JSON, and
(2) `threads.replay.runner.replay` rebuilding every read model and swapping it in.
Writes its figures to docs/benchmarks.md and ends with one RESULT line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
from sqlalchemy.ext.asyncio import create_async_engine

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.database import create_migrated_database  # noqa: E402
from tests.support.servers import free_port  # noqa: E402

from benchmarks.report import write_section  # noqa: E402
from devstack.postgres import start_postgres  # noqa: E402
from threads.projections import default_projector  # noqa: E402
from threads.replay.runner import replay  # noqa: E402


def event_rows(total: int) -> list[tuple[object, ...]]:
    """(stream_id, version, event_id, type, schema_version, data, metadata, recorded_at)."""
    users = max(1, total // 1000)
    projects = max(1, total // 200)
    threads = max(1, total // 10)
    now = datetime.now(UTC)
    rows: list[tuple[object, ...]] = []
    versions: dict[str, int] = {}

    def add(stream: str, kind: str, data: dict[str, object], schema: int = 1) -> None:
        versions[stream] = versions.get(stream, 0) + 1
        rows.append(
            (stream, versions[stream], uuid.uuid4(), kind, schema, json.dumps(data), "{}", now)
        )

    user_ids = [uuid.uuid4() for _ in range(users)]
    for uid in user_ids:
        add(
            f"user-{uid}",
            "UserRegistered",
            {
                "user_id": str(uid),
                "email": f"{uid}@ex.com",
                "display_name": None,
                "password_hash": "h",
            },
        )
    project_ids = []
    for i in range(projects):
        pid, owner = uuid.uuid4(), user_ids[i % users]
        project_ids.append((pid, owner))
        add(
            f"project-{pid}",
            "ProjectCreated",
            {
                "project_id": str(pid),
                "user_id": str(owner),
                "name": f"project {i}",
                "description": None,
            },
        )
    thread_ids = []
    for i in range(threads):
        tid = uuid.uuid4()
        pid, owner = project_ids[i % projects] if i % 5 == 0 else (None, user_ids[i % users])
        thread_ids.append(tid)
        add(
            f"thread-{tid}",
            "ThreadCreated",
            {
                "thread_id": str(tid),
                "user_id": str(owner),
                "project_id": str(pid) if pid else None,
                "title": f"thread {i}",
                "model_provider": "echo",
                "model": "echo",
                "thread_type": "assistant",
                "agent_type": "chat",
            },
            schema=2,
        )
    i = 0
    while len(rows) < total:
        tid = thread_ids[i % threads]
        add(
            f"thread-{tid}",
            "MessagePosted",
            {
                "message_id": str(uuid.uuid4()),
                "thread_id": str(tid),
                "role": "user" if i % 2 == 0 else "assistant",
                "content": "a message of about a hundred bytes, which is what chat turns often are",
                "artifact_data": None,
                "metadata": None,
            },
        )
        i += 1
    return rows


async def seed(dsn: str, total: int) -> float:
    rows = event_rows(total)
    conn = await asyncpg.connect(dsn)
    started = time.perf_counter()
    try:
        await conn.copy_records_to_table(
            "events",
            records=rows,
            columns=[
                "stream_id",
                "stream_version",
                "event_id",
                "event_type",
                "schema_version",
                "data",
                "metadata",
                "recorded_at",
            ],
        )
        await conn.execute("ANALYZE events")
    finally:
        await conn.close()
    return time.perf_counter() - started


async def raw_read(dsn: str) -> tuple[int, float]:
    """Every event row, in position order, JSON decoded: what replay cannot beat."""
    conn = await asyncpg.connect(dsn)
    n = 0
    started = time.perf_counter()
    try:
        async with conn.transaction():
            async for row in conn.cursor(
                "SELECT global_position, stream_id, stream_version, event_id, event_type,"
                " schema_version, data, metadata, recorded_at FROM events"
                " ORDER BY global_position",
                prefetch=5000,
            ):
                json.loads(row["data"])
                n += 1
    finally:
        await conn.close()
    return n, time.perf_counter() - started


async def main_async(total: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-replay-") as tmp:
        pg = start_postgres(
            Path(tmp) / "pg", free_port(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            url = await asyncio.to_thread(create_migrated_database, pg.dsn, "bench_replay")
            dsn = url.replace("+asyncpg", "")
            seeded = await seed(dsn, total)
            print(f"seeded {total:,} events in {seeded:.1f}s", flush=True)
            n, raw_s = await raw_read(dsn)
            raw_rate = n / raw_s
            print(f"raw read: {n:,} events in {raw_s:.2f}s = {raw_rate:,.0f} events/s", flush=True)
            engine = create_async_engine(url)
            last = [0.0]

            def progress(done: int, known: int) -> None:
                now = time.perf_counter()
                if now - last[0] > 10:
                    last[0] = now
                    print(f"  replay {done:,}/{known:,}", flush=True)

            report = await replay(engine, default_projector(), progress=progress)
            await engine.dispose()
        finally:
            pg.stop()
    rate = report.events_per_second
    print(
        f"replay: {report.events:,} events in {report.seconds:.1f}s = {rate:,.0f} events/s; "
        f"lock held {report.lock_seconds * 1000:.0f} ms"
    )
    write_section(
        "Replay (`make bench-replay`)",
        [
            f"{total:,} events (users, projects, threads, messages), PostgreSQL 18 embedded, "
            f"fsync on, 2 cores.",
            "",
            "| measure | events/s |",
            "| --- | ---: |",
            f"| raw read (asyncpg cursor, JSON decoded) | {raw_rate:,.0f} |",
            f"| replay into shadow tables + swap | {rate:,.0f} |",
            f"| ratio raw / replay | {raw_rate / rate:.1f}x |",
            "",
            f"Swap lock held {report.lock_seconds * 1000:.0f} ms.",
        ],
    )
    print(f"RESULT replay_events_per_s={rate:.0f} raw_read_events_per_s={raw_rate:.0f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    asyncio.run(main_async(parser.parse_args().events))


if __name__ == "__main__":
    main()
