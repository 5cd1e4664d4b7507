"""Benchmark: what a personal API key's check costs the gateway, against a login token's.

Starts its own Postgres and NATS (like the tests), a fresh migrated database, the threads
service and gateway as processes; registers a user and creates an API key through HTTP
(POST /api/keys), uses the key once (so it is in the gateway's memory: the path every request
after the first takes), then sends `--requests` sequential GET /api/me with the JWT and as
many with the key, in turn for `--rounds` rounds each. Measures the gateway process's CPU time
(user + system, all its threads) per request in each round, and the wall time of each request.
Also the wall time of a key's first use (a miss: the gateway asks the threads service).

Ends with one line: RESULT key_check_cpu_ms=<key, per request> jwt_cpu_ms=<JWT>
overhead_ms=<the difference> (target: the key adds under 0.2 ms).

Run: `uv run python benchmarks/bench_keys.py [--requests 2000 --rounds 5 --cold 20]`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import psutil  # noqa: E402
from tests.support.database import create_migrated_database  # noqa: E402
from tests.support.servers import infrastructure  # noqa: E402

from benchmarks.bench_list import percentile, start_stack  # noqa: E402
from benchmarks.report import write_section  # noqa: E402

KINDS = ("jwt", "key")


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


async def round_of(
    client: httpx.AsyncClient, headers: dict[str, str], n: int, process: psutil.Process
) -> tuple[float, list[float]]:
    """CPU seconds of the gateway per request over `n` requests, and each one's wall ms."""
    walls = []
    before = cpu_seconds(process)
    for _ in range(n):
        start = time.perf_counter()
        r = await client.get("/api/me", headers=headers)
        walls.append((time.perf_counter() - start) * 1000)
        assert r.status_code == 200, r.text
    return (cpu_seconds(process) - before) / n, walls


async def measure(
    base_url: str, gateway_pid: int, args: argparse.Namespace
) -> tuple[dict[str, list[float]], dict[str, list[float]], list[float]]:
    process = psutil.Process(gateway_pid)
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        email = f"keys-{uuid.uuid4().hex[:8]}@example.com"
        r = await client.post(
            "/api/auth/register", json={"email": email, "password": "correct horse"}
        )
        token = {"Authorization": f"Bearer {r.json()['access_token']}"}

        async def new_key() -> dict[str, str]:
            r = await client.post("/api/keys", json={"name": "bench"}, headers=token)
            assert r.status_code == 201, r.text
            return {"Authorization": f"Bearer {r.json()['key']}"}

        cold = []
        for _ in range(args.cold):
            headers = await new_key()
            start = time.perf_counter()
            r = await client.get("/api/me", headers=headers)
            cold.append((time.perf_counter() - start) * 1000)
            assert r.status_code == 200, r.text
        auth = {"jwt": token, "key": await new_key()}
        for kind in KINDS:  # warm: the key into memory, connections, caches
            for _ in range(50):
                assert (await client.get("/api/me", headers=auth[kind])).status_code == 200
        cpu: dict[str, list[float]] = {kind: [] for kind in KINDS}
        walls: dict[str, list[float]] = {kind: [] for kind in KINDS}
        for i in range(args.rounds):
            for kind in KINDS if i % 2 == 0 else reversed(KINDS):
                per_request, samples = await round_of(client, auth[kind], args.requests, process)
                cpu[kind].append(per_request * 1000)
                walls[kind] += samples
                print(f"  round {i + 1} {kind:<3}  gateway CPU {per_request * 1e6:7.1f} us/req")
        return cpu, walls, cold


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="per round")
    parser.add_argument("--rounds", type=int, default=5, help="each side this often, in turn")
    parser.add_argument("--cold", type=int, default=20, help="fresh keys timed on first use")
    parser.add_argument("--no-report", action="store_true")
    args = parser.parse_args()
    with infrastructure() as infra:
        database_url = create_migrated_database(infra.admin_dsn, prefix="sb_bench")
        stack = start_stack(infra.nats_url, database_url, Path(tempfile.mkdtemp(prefix="keys-")))
        try:
            gateway = stack.services["gateway"].pid
            cpu, walls, cold = asyncio.run(measure(stack.base_url, gateway, args))
        finally:
            stack.stop()
    med = {kind: statistics.median(cpu[kind]) for kind in KINDS}
    overhead = med["key"] - med["jwt"]
    names = {"jwt": "login token (JWT)", "key": "API key (in memory)"}
    lines = [
        f"GET /api/me through the gateway, NATS and the threads service, {args.requests} "
        f"sequential requests a round, {args.rounds} rounds of each credential in turn; the "
        "gateway process's CPU time (user + system) per request, median of the rounds, and "
        "wall time over every request. The key was used once before (the path of every request "
        "after a key's first). Load average at the end: "
        f"{' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs.",
        "",
        "| credential | gateway CPU per request (ms) | rounds min-max (ms) | p50 (ms) | p99 (ms) |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for kind in KINDS:
        lines.append(
            f"| {names[kind]} | {med[kind]:.3f} | {min(cpu[kind]):.3f}-{max(cpu[kind]):.3f} "
            f"| {percentile(walls[kind], 0.5):.2f} | {percentile(walls[kind], 0.99):.2f} |"
        )
    lines += [
        "",
        f"The key's check adds {overhead:.3f} ms of gateway CPU per request (target: under "
        "0.2 ms).",
    ]
    if cold:
        lines.append(
            f"A key's first use (a miss: VerifyApiKey to the threads service), {len(cold)} fresh "
            f"keys: p50 {percentile(cold, 0.5):.2f} ms, max {max(cold):.2f} ms."
        )
    print("\n".join(lines))
    if not args.no_report:
        write_section("API key check (`make bench-keys`)", lines, key="bench-keys")
    print(
        f"RESULT key_check_cpu_ms={med['key']:.3f} jwt_cpu_ms={med['jwt']:.3f} "
        f"overhead_ms={overhead:.3f}"
    )


if __name__ == "__main__":
    main()
