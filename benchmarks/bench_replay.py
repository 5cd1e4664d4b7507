"""`make bench-replay`: replay throughput for N events (default 1,000,000) next to the raw speed
of reading the same events from PostgreSQL in the same run (the physical limit).

Seeds a fresh database with a varied log (`replay_seed`: projects, threads, moves, deletes,
messages, chats that complete, fail or are cancelled, documents, provider settings, task
routes) by COPYing event rows shaped exactly as the handlers append them; then times
(1) reading every event row with asyncpg in batches, its data decoded by orjson: the raw read,
    run before and after the replay, the faster run kept; and
(2) `threads.replay.runner.replay` rebuilding every read model and swapping it in.
Checks the rebuilt row counts against the simulation, writes its figures to docs/benchmarks.md
and ends with one RESULT line.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import orjson
from sqlalchemy.ext.asyncio import create_async_engine

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.database import create_migrated_database  # noqa: E402
from tests.support.servers import free_port  # noqa: E402

from benchmarks.replay_seed import EVENT_COLUMNS, World  # noqa: E402
from benchmarks.report import write_section  # noqa: E402
from devstack.postgres import start_postgres  # noqa: E402
from threads.projections import default_projector  # noqa: E402
from threads.replay.runner import ReplayReport, replay  # noqa: E402

RAW = (
    "SELECT global_position, stream_id, stream_version, event_id, event_type, schema_version,"
    " data, metadata, recorded_at FROM events ORDER BY global_position"
)


async def wait_accepting(dsn: str, timeout: float = 60.0) -> None:
    """The port opens before recovery ends ("the database system is starting up")."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            conn = await asyncpg.connect(dsn)
        except (asyncpg.CannotConnectNowError, OSError):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)
        else:
            await conn.close()
            return


Seeded = tuple[Counter[str], dict[str, int], int, float]  # kinds, expected rows, users, seconds


def seed_in_child(dsn: str, total: int, seed_value: int) -> Seeded:
    """Seeding runs in its own process, so the benchmark's memory figures are the replay's."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(_seed_sync, dsn, total, seed_value).result()


def _seed_sync(dsn: str, total: int, seed_value: int) -> Seeded:
    world = World(seed_value, datetime.now(UTC) - timedelta(days=60))
    kinds, seconds = asyncio.run(seed(dsn, world, total))
    return kinds, world.expected(), len(world.users), seconds


async def seed(dsn: str, world: World, total: int) -> tuple[Counter[str], float]:
    """COPY the log, each batch written while the next is simulated; then VACUUM ANALYZE, so
    neither timed read pays for setting hint bits."""
    conn = await asyncpg.connect(dsn)
    started = time.perf_counter()
    kinds: Counter[str] = Counter()
    pending: asyncio.Task[str] | None = None
    try:
        for rows in world.batches(total):
            kinds.update(row[3] for row in rows)
            if pending is not None:
                await pending
            pending = asyncio.create_task(
                conn.copy_records_to_table("events", records=rows, columns=EVENT_COLUMNS)
            )
            await asyncio.sleep(0)
        if pending is not None:
            await pending
        await conn.execute("VACUUM ANALYZE events")
    finally:
        await conn.close()
    return kinds, time.perf_counter() - started


async def raw_read(dsn: str, batch: int = 10_000) -> tuple[int, float]:
    """Every event row in position order, its data JSON-decoded: what replay cannot beat.
    Read like replay reads (a cursor in batches, the next one requested before decoding)."""
    conn = await asyncpg.connect(dsn)
    loads = orjson.loads
    n = 0
    started = time.perf_counter()
    try:
        async with conn.transaction():
            cursor = await conn.cursor(RAW)
            pending = asyncio.ensure_future(cursor.fetch(batch))
            while rows := await pending:
                pending = asyncio.ensure_future(cursor.fetch(batch))
                await asyncio.sleep(0)
                for row in rows:
                    loads(row[6])
                n += len(rows)
    finally:
        await conn.close()
    return n, time.perf_counter() - started


def rss_mib(field: str) -> float:
    """VmRSS / VmHWM of this process, in MiB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def reset_peak_rss() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


async def counts(dsn: str) -> dict[str, int]:
    conn = await asyncpg.connect(dsn)
    try:
        return {
            table: int(await conn.fetchval(f"SELECT count(*) FROM {table}"))  # noqa: S608
            for table in ("users", "projects", "threads", "messages", "documents")
        }
    finally:
        await conn.close()


async def timed_replay(url: str) -> tuple[ReplayReport, float, float]:
    """The replay, with the process's RSS before it and its peak during it."""
    engine = create_async_engine(url)
    last = [time.perf_counter()]

    def progress(done: int, known: int) -> None:
        now = time.perf_counter()
        if now - last[0] > 5:
            last[0] = now
            print(f"  replay {done:,}/{known:,}", flush=True)

    before = rss_mib("VmRSS")
    reset_peak_rss()
    try:
        report = await replay(engine, default_projector(), progress=progress)
    finally:
        await engine.dispose()
    return report, before, rss_mib("VmHWM")


async def main_async(total: int, seed_value: int) -> None:
    load_start = os.getloadavg()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-replay-") as tmp:
        pg = start_postgres(
            Path(tmp) / "pg", free_port(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            await wait_accepting(pg.dsn)
            url = await asyncio.to_thread(create_migrated_database, pg.dsn, "bench_replay")
            dsn = url.replace("+asyncpg", "")
            kinds, expected, users, seeded = await asyncio.to_thread(
                seed_in_child, dsn, total, seed_value
            )
            n = sum(kinds.values())
            print(f"seeded {n:,} events in {seeded:.1f}s", flush=True)
            first = await raw_read(dsn)
            print(f"raw read: {first[0]:,} events in {first[1]:.2f}s", flush=True)
            report, rss_before, rss_peak = await timed_replay(url)
            second = await raw_read(dsn)
            print(f"raw read again: {second[0]:,} events in {second[1]:.2f}s", flush=True)
            rebuilt = await counts(dsn)
        finally:
            pg.stop()
    load_end = os.getloadavg()
    assert rebuilt == expected, f"rebuilt {rebuilt} != simulated {expected}"
    raw_rate = max(first[0] / first[1], second[0] / second[1])
    rate = report.events_per_second
    print(
        f"replay: {report.events:,} events in {report.seconds:.1f}s = {rate:,.0f} events/s "
        f"(read + apply {report.read_seconds:.1f}s, load {report.load_seconds:.1f}s); "
        f"lock held {report.lock_seconds * 1000:.0f} ms; peak RSS {rss_peak:,.0f} MiB "
        f"({rss_before:,.0f} MiB before)"
    )
    mix = ", ".join(f"{kind} {count:,}" for kind, count in kinds.most_common())
    write_section(
        "Replay (`make bench-replay`)",
        [
            f"{n:,} events from a simulated workload ({users:,} users; seed "
            f"{seed_value}), shaped as the handlers append them: {mix}. Rebuilt: "
            + ", ".join(f"{v:,} {k}" for k, v in rebuilt.items())
            + " (checked against the simulation).",
            "",
            "| measure | events/s | seconds |",
            "| --- | ---: | ---: |",
            f"| raw read (asyncpg cursor in batches, data decoded by orjson; best of 2) "
            f"| {raw_rate:,.0f} | {n / raw_rate:.1f} |",
            f"| replay: read + apply in memory | {report.events / report.read_seconds:,.0f} "
            f"| {report.read_seconds:.1f} |",
            f"| replay: COPY {report.rows:,} rows, keys, indexes, ANALYZE | "
            f"| {report.load_seconds:.1f} |",
            f"| **replay, end to end (into shadow tables + swap)** | **{rate:,.0f}** "
            f"| {report.seconds:.1f} |",
            "",
            f"Ratio raw read / replay: {raw_rate / rate:.1f}x (target: at least 50,000 events/s "
            "or within 3x of the raw read). Swap lock held "
            f"{report.lock_seconds * 1000:.0f} ms. Peak RSS of the benchmark process during the "
            f"replay {rss_peak:,.0f} MiB ({rss_before:,.0f} MiB before it; the bulk phase "
            "holds every live row of every read model in memory).",
            "",
            f"Embedded PostgreSQL (fsync on), {os.cpu_count()} CPUs ({platform.machine()}), "
            f"Python {platform.python_version()}; load average {load_start[0]:.1f} when the run "
            f"began, {load_end[0]:.1f} when it ended (the machine is shared: figures move with "
            f"it). Whole run {time.perf_counter() - started:.0f} s, seeding {seeded:.0f} s.",
        ],
    )
    print(f"RESULT replay_events_per_s={rate:.0f} raw_read_events_per_s={raw_rate:.0f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    asyncio.run(main_async(args.events, args.seed))


if __name__ == "__main__":
    main()
