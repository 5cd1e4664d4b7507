"""Benchmark: mixed traffic from many concurrent simulated users against a stack of its own.

Each user registers, makes a thread on the offline `echo` provider, then loops with no think
time: 70% reads (thread list, one thread, its messages, projects), 20% writes (post a message,
create a project, create a thread), 10% chats (post and read the whole answer stream). The
gateway runs with its default (production) rate limits. Afterwards every acknowledged write is
looked up in the database (a chat acknowledges its user message and its answer, which must be
stored complete); the RSS of each service is taken after setup and at the end.

Errors: any answer other than the operation's success status (a 503, a 500, a timeout, a
dropped connection, a chat stream that ends with `error` or without its terminal event). Each
is listed by kind with examples, so a failed run can be diagnosed. A 429 from the per-user rate
limits is counted apart as `throttled`, not as an error: a simulated user with no think time
can outrun limits sized for people (with 200 users sharing one machine it does not happen, as
each waits its turn). Throttled operations did no work: they are left out of the throughput
and the latencies.

Writes its section of docs/benchmarks.md and ends with one line:
RESULT ops_per_s=<all traffic> errors=<count> p99_ms_read=<> p99_ms_write=<> lost_writes=<count>

Run: `make bench-load` (200 users, 2 minutes); `--users 20 --duration 15` for a quick run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
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
EXAMPLES = 3  # examples printed per kind of error


class Failed(Exception):
    """An operation's answer was not its success: `kind` groups alike failures."""

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(kind)
        self.kind = kind
        self.detail = detail[:200]


class Throttled(Exception):
    """429 from a per-user rate limit (not an error; counted apart). The user then waits as
    told by Retry-After, as a well-behaved client does."""

    def __init__(self, retry_after: float) -> None:
        super().__init__("429")
        self.retry_after = retry_after


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    throttled: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    # (operation, kind) → how many, and the first few details with their time into the run
    failures: dict[tuple[str, str], list[str]] = field(default_factory=lambda: defaultdict(list))
    failure_counts: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    acked: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    answers: list[str] = field(default_factory=list)  # assistant messages that ended

    def fail(self, op: str, kind: str, detail: str, at: float) -> None:
        self.errors[op] += 1
        self.failure_counts[(op, kind)] += 1
        if len(self.failures[(op, kind)]) < EXAMPLES:
            self.failures[(op, kind)].append(f"t={at:.1f}s {detail}")


def check(r: httpx.Response, expected: int, what: str) -> None:
    """Raise for an answer that is not `expected`: Throttled for a 429, else Failed."""
    if r.status_code == expected:
        return
    if r.status_code == 429:
        raise Throttled(float(r.headers.get("Retry-After", "1")))
    raise Failed(f"{what} -> {r.status_code}", r.text[:160].replace("\n", " "))


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

    async def read(self) -> None:
        what, url = random.choice(
            [
                ("GET /api/threads", "/api/threads"),
                ("GET /api/threads/{id}", f"/api/threads/{self.thread_id}"),
                ("GET /api/threads/{id}/messages", f"/api/threads/{self.thread_id}/messages"),
                ("GET /api/projects", "/api/projects"),
            ]
        )
        check(await self.client.get(url, headers=self.headers), 200, what)

    async def write(self) -> None:
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
        check(r, 201, f"POST {kind}")
        self.results.acked[kind].append(r.json()["id"])

    async def chat(self) -> None:
        async with self.client.stream(
            "POST",
            f"/api/threads/{self.thread_id}/chat",
            json={"content": f"hello {uuid.uuid4().hex[:8]} from the load test"},
            headers=self.headers,
        ) as response:
            if response.status_code != 200:
                await response.aread()
            check(response, 200, "POST chat")
            events = await read_all(response)
        if not events or events[0].event != "message_start":
            raise Failed("chat stream without message_start")
        start = events[0].data
        self.results.acked["messages"].append(start["user_message_id"])
        last = events[-1]
        if last.event == "error":
            raise Failed(f"chat ended with error {last.data.get('code')}", str(last.data))
        if last.event != "message_end":
            raise Failed(f"chat stream ended at {last.event!r}, no terminal event")
        self.results.answers.append(start["message_id"])

    async def run(self, until: float, started: float) -> None:
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
                await call()
            except Throttled as wait:
                self.results.throttled[op] += 1
                await asyncio.sleep(max(0.0, min(wait.retry_after, until - time.monotonic())))
                continue
            except Failed as exc:
                self.results.fail(op, exc.kind, exc.detail, time.monotonic() - started)
            except httpx.HTTPError as exc:  # timeouts, dropped connections
                at = time.monotonic() - started
                self.results.fail(op, type(exc).__name__, f"{call.__name__}: {exc!r}", at)
            self.results.latencies[op].append(time.perf_counter() - start)


async def lost_writes(database_url: str, results: Results) -> int:
    """Acknowledged writes not in the database, plus answers that ended (message_end) but are
    not stored complete."""
    conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        lost = 0
        for table, ids in results.acked.items():
            found = await conn.fetchval(
                f"select count(*) from {table} where id = any($1::uuid[])",  # noqa: S608
                ids,
            )
            lost += len(ids) - int(found)
        complete = await conn.fetchval(
            "select count(*) from messages where id = any($1::uuid[]) and status = 'complete'",
            results.answers,
        )
        return lost + len(results.answers) - int(complete)
    finally:
        await conn.close()


async def drive(
    base_url: str, users: int, duration: float, pids: dict[str, int]
) -> tuple[Results, float, dict[str, float], dict[str, float]]:
    results = Results()
    # One client (one keep-alive connection) per simulated user, as real users have. A single
    # client with a pool of 200 connections spends most of the load generator's CPU in
    # httpcore's pool bookkeeping (every request walks every connection), which then starves
    # the services sharing this machine.
    async with contextlib.AsyncExitStack() as clients:
        sims = [
            SimUser(
                await clients.enter_async_context(
                    httpx.AsyncClient(
                        base_url=base_url,
                        timeout=60,
                        limits=httpx.Limits(max_connections=2, max_keepalive_connections=2),
                    )
                ),
                results,
            )
            for _ in range(users)
        ]
        sem = asyncio.Semaphore(20)

        async def setup(sim: SimUser) -> None:
            async with sem:
                await sim.setup()

        await asyncio.gather(*(setup(s) for s in sims))
        rss_start = {name: rss_mb(pid) for name, pid in pids.items()}
        start = time.monotonic()
        await asyncio.gather(*(s.run(start + duration, start) for s in sims))
        elapsed = time.monotonic() - start
        rss_end = {name: rss_mb(pid) for name, pid in pids.items()}
    return results, elapsed, rss_start, rss_end


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--duration", type=float, default=120.0, help="seconds of traffic")
    parser.add_argument(
        "--threads", type=int, default=1, help="threads service processes (THREADS= of make up)"
    )
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
        stack = start_stack(
            infra, database_url, log_dir, threads=args.threads, extra_env=production_limits
        )
        try:
            pids = {name: svc.pid for name, svc in stack.services.items()}
            results, elapsed, rss_start, rss_end = asyncio.run(
                drive(stack.base_url, args.users, args.duration, pids)
            )
            time.sleep(1)
            lost = asyncio.run(lost_writes(database_url, results))
        finally:
            stack.stop()

    total = sum(len(v) for v in results.latencies.values())
    errors = sum(results.errors.values())
    ops_per_s = total / elapsed
    rows = [
        "| operation | count | per s | p50 ms | p99 ms | errors | throttled (429) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for op in (READ, WRITE, CHAT):
        lat = results.latencies[op]
        rows.append(
            f"| {op} | {len(lat)} | {len(lat) / elapsed:.0f} | {percentile(lat, 0.5) * 1000:.1f} "
            f"| {percentile(lat, 0.99) * 1000:.1f} | {results.errors[op]} "
            f"| {results.throttled[op]} |"
        )
    failures = [
        f"- {op}: {kind}: {count}" + "".join(f"\n  - {d}" for d in results.failures[(op, kind)])
        for (op, kind), count in sorted(results.failure_counts.items())
    ]
    memory = ["| service | RSS at start (MB) | RSS at end (MB) |", "|---|---:|---:|"]
    memory += [f"| {n} | {rss_start[n]:.0f} | {rss_end[n]:.0f} |" for n in rss_start]
    acked = sum(len(v) for v in results.acked.values())
    throttled = sum(results.throttled.values())
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
            f"acknowledged writes: {acked} (and {len(results.answers)} answers), "
            f"lost: **{lost}**; throttled by the rate limits: {throttled}.",
            "",
            *rows,
            "",
            *(["Errors by kind (first examples):", "", *failures, ""] if failures else []),
            *memory,
            "",
            f"Run {time.strftime('%Y-%m-%d')}.",
        ]
    )
    print(body)
    print(f"service logs: {log_dir}")
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
