"""Benchmark: mixed traffic from many concurrent simulated users against a stack of its own.

Each user registers, makes a thread on the offline `echo` provider, then loops with no think
time: 70% reads (thread list, one thread, its messages, projects), 20% writes (post a message,
create a project, create a thread), 10% chats (post and read the whole answer stream). The
gateway runs with its default rate limits. Afterwards every acknowledged write is looked up in
the database; the RSS of each service is taken after setup and at the end.

Writes its section of docs/benchmarks.md and ends with one line:
RESULT ops_per_s=<all traffic> errors=<count> p99_ms_read=<> p99_ms_write=<> lost_writes=<count>

Run: `make bench-load` (200 users, 2 minutes); `--users 20 --duration 15` for a quick run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
import httpx  # noqa: E402
from tests.conftest import start_stack  # noqa: E402
from tests.support.database import create_migrated_database  # noqa: E402
from tests.support.servers import infrastructure  # noqa: E402
from tests.support.sse_client import read_all  # noqa: E402

from benchmarks.report import replace_section  # noqa: E402
from gateway.config import Settings  # noqa: E402

READ, WRITE, CHAT = "read", "write", "chat"


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    acked: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class SimUser:
    def __init__(self, client: httpx.AsyncClient, results: Results) -> None:
        self.client = client
        self.results = results
        self.headers: dict[str, str] = {}
        self.thread_id = ""

    async def setup(self) -> None:
        email = f"load-{uuid.uuid4().hex[:12]}@example.com"
        r = await self.client.post(
            "/api/auth/register", json={"email": email, "password": "load load load"}
        )
        r.raise_for_status()
        self.headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
        r = await self.client.post(
            "/api/threads", json={"model_provider": "echo", "model": "echo"}, headers=self.headers
        )
        r.raise_for_status()
        self.thread_id = r.json()["id"]

    async def read(self) -> bool:
        url = random.choice(
            [
                "/api/threads",
                f"/api/threads/{self.thread_id}",
                f"/api/threads/{self.thread_id}/messages",
                "/api/projects",
            ]
        )
        r = await self.client.get(url, headers=self.headers)
        return r.status_code == 200

    async def write(self) -> bool:
        roll = random.random()
        if roll < 0.5:
            kind, url, body = (
                "messages",
                f"/api/threads/{self.thread_id}/messages",
                {"role": "user", "content": f"note {uuid.uuid4().hex}"},
            )
        elif roll < 0.75:
            kind, url, body = "projects", "/api/projects", {"name": f"p-{uuid.uuid4().hex[:8]}"}
        else:
            kind, url, body = "threads", "/api/threads", {"title": f"t-{uuid.uuid4().hex[:8]}"}
        r = await self.client.post(url, json=body, headers=self.headers)
        if r.status_code != 201:
            return False
        self.results.acked[kind].append(r.json()["id"])
        return True

    async def chat(self) -> bool:
        async with self.client.stream(
            "POST",
            f"/api/threads/{self.thread_id}/chat",
            json={"content": f"hello {uuid.uuid4().hex[:8]} from the load test"},
            headers=self.headers,
        ) as response:
            if response.status_code != 200:
                return False
            events = await read_all(response)
        return bool(events) and events[-1].event == "message_end"

    async def run(self, until: float) -> None:
        while time.monotonic() < until:
            roll = random.random()
            op, call = (
                (READ, self.read)
                if roll < 0.7
                else (WRITE, self.write)
                if roll < 0.9
                else (CHAT, self.chat)
            )
            start = time.perf_counter()
            try:
                ok = await call()
            except httpx.HTTPError:
                ok = False
            self.results.latencies[op].append(time.perf_counter() - start)
            if not ok:
                self.results.errors[op] += 1


async def lost_writes(database_url: str, acked: dict[str, list[str]]) -> int:
    conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        lost = 0
        for table, ids in acked.items():
            found = await conn.fetchval(
                f"select count(*) from {table} where id = any($1::uuid[])",  # noqa: S608
                ids,
            )
            lost += len(ids) - int(found)
        return lost
    finally:
        await conn.close()


async def drive(
    base_url: str, users: int, duration: float, pids: dict[str, int]
) -> tuple[Results, float, dict[str, float], dict[str, float]]:
    results = Results()
    limits = httpx.Limits(max_connections=users + 10, max_keepalive_connections=users + 10)
    async with httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits) as client:
        sims = [SimUser(client, results) for _ in range(users)]
        sem = asyncio.Semaphore(20)

        async def setup(sim: SimUser) -> None:
            async with sem:
                await sim.setup()

        await asyncio.gather(*(setup(s) for s in sims))
        rss_start = {name: rss_mb(pid) for name, pid in pids.items()}
        start = time.monotonic()
        await asyncio.gather(*(s.run(start + duration) for s in sims))
        elapsed = time.monotonic() - start
        rss_end = {name: rss_mb(pid) for name, pid in pids.items()}
    return results, elapsed, rss_start, rss_end


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--duration", type=float, default=120.0, help="seconds of traffic")
    parser.add_argument("--no-report", action="store_true", help="do not touch docs/")
    args = parser.parse_args()

    defaults = Settings()
    production_limits = {
        "GATEWAY_RATE_LIMIT_WRITES_PER_MINUTE": str(defaults.rate_limit_writes_per_minute),
        "GATEWAY_RATE_LIMIT_WRITES_BURST": str(defaults.rate_limit_writes_burst),
        "GATEWAY_RATE_LIMIT_CHATS_PER_MINUTE": str(defaults.rate_limit_chats_per_minute),
        "GATEWAY_RATE_LIMIT_CHATS_BURST": str(defaults.rate_limit_chats_burst),
        "GATEWAY_MAX_STREAMS_PER_USER": str(defaults.max_streams_per_user),
    }
    with infrastructure() as infra:
        database_url = create_migrated_database(infra.admin_dsn, prefix="sb_load")
        log_dir = Path(tempfile.mkdtemp(prefix="bench-load-"))
        stack = start_stack(infra, database_url, log_dir, extra_env=production_limits)
        try:
            pids = {name: svc.pid for name, svc in stack.services.items()}
            results, elapsed, rss_start, rss_end = asyncio.run(
                drive(stack.base_url, args.users, args.duration, pids)
            )
            time.sleep(1)
            lost = asyncio.run(lost_writes(database_url, results.acked))
        finally:
            stack.stop()

    total = sum(len(v) for v in results.latencies.values())
    errors = sum(results.errors.values())
    ops_per_s = total / elapsed
    rows = [
        "| operation | count | per s | p50 ms | p99 ms | errors |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for op in (READ, WRITE, CHAT):
        lat = results.latencies[op]
        rows.append(
            f"| {op} | {len(lat)} | {len(lat) / elapsed:.0f} | {percentile(lat, 0.5) * 1000:.1f} "
            f"| {percentile(lat, 0.99) * 1000:.1f} | {results.errors[op]} |"
        )
    memory = ["| service | RSS at start (MB) | RSS at end (MB) |", "|---|---:|---:|"]
    memory += [f"| {n} | {rss_start[n]:.0f} | {rss_end[n]:.0f} |" for n in rss_start]
    acked = sum(len(v) for v in results.acked.values())
    body = "\n".join(
        [
            "## Mixed load (`make bench-load`)",
            "",
            f"{args.users} concurrent simulated users for {args.duration:.0f} s, no think time: "
            "70% reads, 20% writes, 10% chats on `echo` (each chat reads its whole stream). "
            "One gateway, one threads service, one chat worker, embedded Postgres and NATS, "
            f"all on one machine ({platform.machine()}, {os.cpu_count()} CPUs, shared and "
            "noisy). Default rate limits.",
            "",
            f"Throughput: **{ops_per_s:.0f} operations/s**; errors: **{errors}**; "
            f"acknowledged writes: {acked}, lost: **{lost}**.",
            "",
            *rows,
            "",
            *memory,
            "",
            f"Run {time.strftime('%Y-%m-%d')}.",
        ]
    )
    print(body)
    if not args.no_report:
        replace_section("bench-load", body)
    print(
        f"RESULT ops_per_s={ops_per_s:.1f} errors={errors} "
        f"p99_ms_read={percentile(results.latencies[READ], 0.99) * 1000:.1f} "
        f"p99_ms_write={percentile(results.latencies[WRITE], 0.99) * 1000:.1f} "
        f"lost_writes={lost}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
