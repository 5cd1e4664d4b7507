"""Request/reply on NATS: the services' route table (messaging.RouteServer, plain nats-py)
against the same handler served as a FastStream subscriber, on one local nats-server.

Issue 14 asked to measure both ways of serving a route table. Each server runs in a process of
its own; one client sends `--requests` requests one at a time (latency), then the same number
with `--concurrency` in flight (throughput), and the server's CPU per request is read from its
process. Writes its section of docs/benchmarks.md and ends with

RESULT route_p50_us=… faststream_p50_us=… route_cpu_us=… faststream_cpu_us=… (on one line)
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

import nats  # noqa: E402
import orjson  # noqa: E402
import psutil  # noqa: E402
from report import write_section  # noqa: E402
from tests.support.servers import free_port  # noqa: E402

from contracts.queries import CheckHealth  # noqa: E402
from devstack.nats import start_nats  # noqa: E402

SUBJECT = CheckHealth.subject
QUEUE = "bench"
BODY = CheckHealth().model_dump_json().encode()


async def handle(body: dict[str, Any]) -> dict[str, Any]:
    """What every route does around its own work: validate the request, answer a Reply."""
    CheckHealth.model_validate(body)
    return {"ok": True, "data": {"status": "ok"}, "error": None, "replayed": False}


async def serve_route_table(url: str) -> None:
    from messaging.connection import connect
    from messaging.routes import RouteTable
    from messaging.server import RouteServer

    table = RouteTable("bench")
    table.answer(CheckHealth, handle, queue=QUEUE)
    nc = await connect(url, name="bench-route")
    await RouteServer(nc, table).start()
    print("ready", flush=True)
    await asyncio.Event().wait()


async def serve_faststream(url: str) -> None:
    from faststream.nats import NatsBroker

    broker = NatsBroker(url, log_level=logging.DEBUG)

    @broker.subscriber(SUBJECT, queue=QUEUE)
    async def on_request(body: dict[str, Any]) -> dict[str, Any]:
        return await handle(body)

    await broker.start()
    print("ready", flush=True)
    await asyncio.Event().wait()


async def measure(url: str, requests: int, concurrency: int) -> dict[str, float]:
    nc = await nats.connect(url)
    for _ in range(200):  # warm-up
        await nc.request(SUBJECT, BODY, timeout=5)
    latencies = []
    for _ in range(requests):
        start = time.perf_counter()
        msg = await nc.request(SUBJECT, BODY, timeout=5)
        latencies.append(time.perf_counter() - start)
        assert orjson.loads(msg.data)["ok"]
    queue = iter(range(requests))

    async def loop() -> None:
        for _ in queue:
            await nc.request(SUBJECT, BODY, timeout=5)

    start = time.perf_counter()
    await asyncio.gather(*(loop() for _ in range(concurrency)))
    elapsed = time.perf_counter() - start
    await nc.close()
    ordered = sorted(latencies)
    return {
        "p50_us": statistics.median(ordered) * 1e6,
        "p99_us": ordered[int(len(ordered) * 0.99) - 1] * 1e6,
        "per_s": requests / elapsed,
    }


def run_side(kind: str, url: str, requests: int, concurrency: int) -> dict[str, float]:
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", kind, "--url", url],
        stdout=subprocess.PIPE,
    )
    try:
        assert server.stdout is not None
        assert server.stdout.readline().strip() == b"ready"
        process = psutil.Process(server.pid)
        before = process.cpu_times()
        figures = asyncio.run(measure(url, requests, concurrency))
        after = process.cpu_times()
        cpu = (after.user - before.user) + (after.system - before.system)
        figures["cpu_us"] = cpu / (2 * requests + 200) * 1e6
        return figures
    finally:
        server.terminate()
        server.wait(10)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=5000)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=3, help="each side this often, in turn")
    ap.add_argument("--no-report", action="store_true")
    ap.add_argument("--serve", choices=["route", "faststream"], help=argparse.SUPPRESS)
    ap.add_argument("--url", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve = serve_route_table if args.serve == "route" else serve_faststream
        asyncio.run(serve(args.url))
        return
    with tempfile.TemporaryDirectory(prefix="bench-bus-") as tmp:
        server = start_nats(
            Path(tmp) / "nats", free_port(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            runs: dict[str, list[dict[str, float]]] = {"route": [], "faststream": []}
            for _ in range(args.rounds):
                for kind in runs:
                    runs[kind].append(run_side(kind, server.url, args.requests, args.concurrency))
        finally:
            server.stop()
    med = {
        kind: {key: statistics.median(r[key] for r in rs) for key in rs[0]}
        for kind, rs in runs.items()
    }
    lines = [
        f"One handler (validate a query, answer a `Reply`) served on one local nats-server, "
        f"{args.requests} sequential requests then {args.requests} with {args.concurrency} in "
        f"flight, each side {args.rounds} times in turn (medians).",
        "",
        "| served by | p50 (us) | p99 (us) | requests/s at C="
        f"{args.concurrency} | server CPU per request (us) |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    names = {"route": "route table (messaging.RouteServer)", "faststream": "FastStream subscriber"}
    for kind, m in med.items():
        lines.append(
            f"| {names[kind]} | {m['p50_us']:.0f} | {m['p99_us']:.0f} | {m['per_s']:.0f} "
            f"| {m['cpu_us']:.0f} |"
        )
    print("\n".join(lines))
    if not args.no_report:
        write_section("NATS request path (`make bench-bus`)", lines, key="bench-bus")
    print(
        f"RESULT route_p50_us={med['route']['p50_us']:.0f} "
        f"faststream_p50_us={med['faststream']['p50_us']:.0f} "
        f"route_cpu_us={med['route']['cpu_us']:.0f} "
        f"faststream_cpu_us={med['faststream']['cpu_us']:.0f}"
    )


if __name__ == "__main__":
    main()
