"""Benchmark: GET /api/usage for a user with a year of daily ledger rows.

Starts its own Postgres and NATS (like the tests), a fresh migrated database, the threads
service and gateway as processes; registers a user, then writes the usage ledger's rows
straight into its table (the read path is what is measured; how rows get there is the
projection's, tested in tests/e2e/test_usage.py): 365 days x 3 provider/models x 3 projects
(one of them none) x 3 tasks for the user, and as many for `--others` other users. Times,
over `--requests` sequential requests each through the gateway, NATS and the threads service,
a year of usage with several `group_by` combinations.

Writes its section of docs/benchmarks.md and ends with one line:
RESULT usage_p99_ms=<the slowest combination's p99> rows=<the user's> (target: under 25 ms p99).

Run: `uv run python benchmarks/bench_usage.py [--days 365 --others 20 --requests 300]`.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import sys
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import Date, func, select, text  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine  # noqa: E402
from tests.support.database import create_migrated_database  # noqa: E402
from tests.support.servers import infrastructure  # noqa: E402

from benchmarks.bench_list import Timing, start_stack, timed  # noqa: E402
from benchmarks.report import write_section  # noqa: E402
from threads.projections.usage import NO_PROJECT  # noqa: E402
from threads.queries.usage import COUNTERS  # noqa: E402
from threads.store.tables import usage_daily, usage_ledger, usage_monthly  # noqa: E402

MODELS = (
    ("anthropic", "claude-sonnet-4-5"),
    ("openai", "gpt-4o-mini"),
    ("ollama", "llama3.1"),
)
TASKS = ("chat", "title", "summary")
MONTHLY_KEYS = ("provider", "model", "project_key", "task")
GROUPS = ("", "day", "model", "project,task", "day,provider,model")


async def rollups(conn: AsyncConnection) -> None:
    """The rollups the projection keeps, summed from the seeded ledger."""
    sums = [func.sum(usage_ledger.c[c]) for c in COUNTERS]
    month = func.date_trunc("month", usage_ledger.c.day).cast(Date)
    for table, keys in (
        (usage_daily, [usage_ledger.c[k] for k in ("user_id", "day", "provider", "model")]),
        (
            usage_monthly,
            [usage_ledger.c.user_id, month, *(usage_ledger.c[k] for k in MONTHLY_KEYS)],
        ),
    ):
        names = [c.name for c in table.columns]
        await conn.execute(table.insert().from_select(names, select(*keys, *sums).group_by(*keys)))


async def seed(database_url: str, users: list[uuid.UUID], days: int) -> int:
    """Every combination for every day of each user; returns the rows of one user."""
    engine = create_async_engine(database_url, pool_size=1)
    rng = random.Random(17)
    today = datetime.now(UTC).date()
    projects = (NO_PROJECT, str(uuid.uuid4()), str(uuid.uuid4()))
    per_user = 0
    try:
        async with engine.begin() as conn:
            for user in users:
                rows = [
                    {
                        "user_id": user,
                        "day": today - timedelta(days=d),
                        "provider": provider,
                        "model": model,
                        "project_key": project,
                        "task": task,
                        "requests": rng.randint(1, 40),
                        "input_tokens": rng.randint(100, 90_000),
                        "output_tokens": rng.randint(10, 9_000),
                        "reasoning_tokens": rng.randint(0, 500),
                    }
                    for d, (provider, model), project, task in itertools.product(
                        range(days), MODELS, projects, TASKS
                    )
                ]
                await conn.execute(usage_ledger.insert(), rows)
                per_user = len(rows)
            await rollups(conn)
            await conn.execute(text("ANALYZE usage_ledger, usage_daily, usage_monthly"))
    finally:
        await engine.dispose()
    return per_user


async def measure(
    base_url: str, database_url: str, args: argparse.Namespace
) -> tuple[list[Timing], int]:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        email = f"usage-{uuid.uuid4().hex[:8]}@example.com"
        r = await client.post(
            "/api/auth/register", json={"email": email, "password": "correct horse"}
        )
        headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
        user_id = uuid.UUID((await client.get("/api/me", headers=headers)).json()["id"])
        others = [uuid.uuid4() for _ in range(args.others)]
        rows = await seed(database_url, [user_id, *others], args.days)
        today = datetime.now(UTC).date()
        year = {"from": (today - timedelta(days=args.days - 1)).isoformat()}
        whole = (await client.get("/api/usage", params=year, headers=headers)).json()
        print(
            f"ledger: {rows} rows for the user, {rows * len(others)} for {len(others)} others; "
            f"a year: {whole['totals']['requests']} requests, cost {whole['totals']['cost_usd']}"
        )

        def get(group_by: str) -> Callable[[], Awaitable[None]]:
            params = {**year, **({"group_by": group_by} if group_by else {})}

            async def call() -> None:
                r = await client.get("/api/usage", params=params, headers=headers)
                assert r.status_code == 200, r.text

            return call

        timings = []
        for group in GROUPS:
            name = f"GET /api/usage a year, group_by={group or '(none)'}"
            timings.append(await timed(name, args.requests, get(group)))
        return timings, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--others", type=int, default=20)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    with infrastructure() as infra:
        database_url = create_migrated_database(infra.admin_dsn, prefix="sb_bench")
        stack = start_stack(infra.nats_url, database_url, Path(tempfile.mkdtemp(prefix="usage-")))
        try:
            timings, rows = asyncio.run(measure(stack.base_url, database_url, args))
        finally:
            stack.stop()
    worst = max(t.p99 for t in timings)
    verdict = "met" if worst < 25 else "not met"
    write_section(
        "Usage (`benchmarks/bench_usage.py`, `make bench-usage`)",
        [
            f"One user with {args.days} days of daily ledger rows ({rows:,} rows: days x 3 "
            "provider/models x 3 projects, one of them none, x 3 tasks) and "
            f"{args.others} other users with as many; `GET /api/usage` over the whole range, "
            f"{args.requests} sequential requests per grouping after 20 warm-up requests, "
            "through HTTP → gateway → NATS → threads service → Postgres and back. The ledger "
            "rows are written straight into the table and the rollups summed from them as the "
            "projection keeps them (the read path is measured here; how rows get there is the "
            "projection's, tested in `tests/e2e/test_usage.py` and "
            "`tests/e2e/test_usage_rollups.py`). Load average "
            f"{load:.1f} when the run began, {os.getloadavg()[0]:.1f} when it ended (2 CPUs, "
            "x86_64, shared with other runs).",
            "",
            "| group_by | p50 ms | p99 ms | requests |",
            "| --- | ---: | ---: | ---: |",
            *(
                f"| {t.name.split('group_by=')[1]} | {t.p50:.2f} | {t.p99:.2f} | {t.n} |"
                for t in timings
            ),
            "",
            f"Target: p99 under 25 ms for every grouping: {verdict}. "
            f"`RESULT usage_p99_ms={worst:.2f} rows={rows}`",
        ],
        key="bench-usage",
    )
    print(f"RESULT usage_p99_ms={worst:.2f} rows={rows}")


if __name__ == "__main__":
    main()
