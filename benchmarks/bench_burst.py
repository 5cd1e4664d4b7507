"""Benchmark: a burst of SSE readers connecting at once to answers being streamed, on one gateway.

375 users each post one long `echo-slow` chat (leaving its POST stream after `message_start`),
then every user opens 8 readers of that answer at the same moment (`GET
/api/threads/{id}/messages/{mid}/stream`, from the start): 3,000 connections in one burst,
against a stack this starts itself (one gateway, one threads service, one chat worker,
embedded Postgres and NATS). The worker takes every answer at once (`WORKER_CONCURRENCY`
raised: echo-slow costs it only timers); everything else is the default stack.

A reader is `completed` when it got `message_end` and the text it shows (after its last
`restart`) is exactly the answer. Figures: completed, 503s and other failures, first-token lag
(from the reader's connect to its first `token` event) p50/p99, and the gateway's CPU time
(user + system, from /proc) during the burst, per reader. The readers are raw sockets that
keep the bytes and parse them once at the end, so the client costs as little CPU as it can on
the shared machine.

Writes its section of docs/benchmarks.md (with `--before FILE`, the figures a run on the
previous code saved with `--save FILE`) and ends with one line:
RESULT readers=<> completed=<> first_token_p99_ms=<> cpu_ms_per_reader=<>

Run: `make bench-burst`; `--users 50` for a quick run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from tests.support.database import create_migrated_database  # noqa: E402
from tests.support.servers import infrastructure  # noqa: E402
from tests.support.stack import start_stack  # noqa: E402

from benchmarks.bench_load import percentile  # noqa: E402
from benchmarks.report import replace_section  # noqa: E402

PASSWORD = "correct horse battery"
TERMINAL = (b"event: message_end", b"event: error", b"event: cancelled")


@dataclass
class Reader:
    status: int = 0
    first_token: float | None = None  # seconds from connect
    body: bytes = b""
    error: str = ""


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def dechunk(raw: bytes) -> bytes:
    out, at = bytearray(), 0
    while at < len(raw):
        end = raw.find(b"\r\n", at)
        if end < 0:
            break
        size = int(raw[at:end].split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out += raw[end + 2 : end + 2 + size]
        at = end + 2 + size + 2
    return bytes(out)


def shown_text(body: bytes) -> tuple[str, bool]:
    """(the text a client shows after its last restart, ended with message_end)."""
    parts: list[str] = []
    ended = False
    for block in body.split(b"\n\n"):
        name = data = b""
        for line in block.split(b"\n"):
            if line.startswith(b"event: "):
                name = line[7:]
            elif line.startswith(b"data: "):
                data = line[6:]
        if name == b"restart":
            parts.clear()
        elif name == b"token":
            parts.append(json.loads(data)["text"])
        elif name == b"message_end":
            ended = True
    return "".join(parts), ended


async def read_stream(host: str, port: int, path: str, token: str, timeout: float) -> Reader:
    got = Reader()
    start = time.monotonic()
    try:
        conn_r, conn_w = await asyncio.open_connection(host, port)
    except OSError as exc:
        got.error = type(exc).__name__
        return got
    try:
        conn_w.write(
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
            "Accept: text/event-stream\r\n\r\n".encode()
        )
        head = await asyncio.wait_for(conn_r.readuntil(b"\r\n\r\n"), timeout)
        got.status = int(head.split(b" ", 2)[1])
        if got.status != 200:
            return got
        raw = bytearray()
        deadline = start + timeout
        while True:
            chunk = await asyncio.wait_for(conn_r.read(65536), deadline - time.monotonic())
            if not chunk:
                break
            seen = len(raw)
            raw += chunk
            window = raw[max(0, seen - 32) :]
            if got.first_token is None and b"event: token" in window:
                got.first_token = time.monotonic() - start
            if any(t in window for t in TERMINAL) and raw.endswith(b"\n\n\r\n"):
                break
        got.body = dechunk(bytes(raw))
    except (TimeoutError, OSError, asyncio.IncompleteReadError) as exc:
        got.error = type(exc).__name__
    finally:
        conn_w.close()
    return got


async def prepare(base_url: str, users: int, words: int) -> list[tuple[str, str, str, str]]:
    """(token, thread id, message id, expected answer) per user, each answer streaming."""
    limits = httpx.Limits(max_connections=32)
    async with httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits) as client:
        gate = asyncio.Semaphore(16)

        async def one(i: int) -> tuple[str, str, str, str]:
            async with gate:
                r = await client.post(
                    "/api/auth/register",
                    json={
                        "email": f"burst-{uuid.uuid4().hex[:10]}@example.com",
                        "password": "correct horse battery",
                    },
                )
                r.raise_for_status()
                token = r.json()["access_token"]
                auth = {"Authorization": f"Bearer {token}"}
                r = await client.post(
                    "/api/threads",
                    json={"model_provider": "echo", "model": "echo-slow"},
                    headers=auth,
                )
                r.raise_for_status()
                return token, r.json()["id"], "", ""

        made = await asyncio.gather(*(one(i) for i in range(users)))
        # One answer read to its end first: the worker's first fetch of a fresh stack waits
        # out a pull request made before its consumer existed, which is no burst's doing.
        async with client.stream(
            "POST",
            f"/api/threads/{made[0][1]}/chat",
            json={"content": "warm up"},
            headers={"Authorization": f"Bearer {made[0][0]}"},
        ) as response:
            async for line in response.aiter_lines():
                if line.startswith("event: message_end"):
                    break

        async def ask(token: str, thread_id: str) -> tuple[str, str, str, str]:
            question = " ".join(f"w{i}{uuid.uuid4().hex[:4]}" for i in range(words))
            # The same Idempotency-Key on a retry: a dropped connection never asks twice.
            headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex}
            for tries_left in range(2, -1, -1):
                try:
                    async with (
                        gate,
                        client.stream(
                            "POST",
                            f"/api/threads/{thread_id}/chat",
                            json={"content": question},
                            headers=headers,
                        ) as response,
                    ):
                        response.raise_for_status()
                        async for line in response.aiter_lines():
                            if line.startswith("data: "):
                                message_id = json.loads(line[6:])["message_id"]
                                return token, thread_id, message_id, f"Echo: {question}"
                except httpx.TransportError:
                    if not tries_left:
                        raise
            raise RuntimeError("chat stream ended before message_start")

        return await asyncio.gather(*(ask(t, th) for t, th, _, _ in made))


async def burst(
    base_url: str, answers: list[tuple[str, str, str, str]], per_user: int, timeout: float
) -> list[tuple[Reader, str]]:
    url = urlsplit(base_url)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    tasks = [
        read_stream(host, port, f"/api/threads/{th}/messages/{mid}/stream", token, timeout)
        for token, th, mid, _ in answers
        for _ in range(per_user)
    ]
    expected = [answer for *_, answer in answers for _ in range(per_user)]
    return list(zip(await asyncio.gather(*tasks), expected, strict=True))


def run(users: int, per_user: int, words: int, timeout: float) -> dict[str, Any]:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the services inherit it
    load = os.getloadavg()[0]
    with infrastructure() as infra:
        database_url = create_migrated_database(infra.admin_dsn, prefix="sb_burst")
        log_dir = Path(tempfile.mkdtemp(prefix="bench-burst-"))
        stack = start_stack(
            infra, database_url, log_dir, extra_env={"WORKER_CONCURRENCY": str(users + 32)}
        )
        try:
            answers = asyncio.run(prepare(stack.base_url, users, words))
            time.sleep(1.0)  # the POST streams' slots are back before the burst
            pids = {name: svc.pid for name, svc in stack.services.items()}
            if infra.nats is not None:
                pids["nats-server"] = infra.nats.process.pid
            cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
            client_before = time.process_time()
            started = time.monotonic()
            results = asyncio.run(burst(stack.base_url, answers, per_user, timeout))
            elapsed = time.monotonic() - started
            spent = {name: cpu_seconds(pid) - cpu_before[name] for name, pid in pids.items()}
            spent["bench client"] = time.process_time() - client_before
            cpu = spent[next(n for n in spent if n.startswith("gateway"))]
        finally:
            stack.stop()
    readers = len(results)
    completed = unavailable = 0
    other: dict[str, int] = {}
    lags: list[float] = []
    for got, answer in results:
        text, ended = shown_text(got.body) if got.status == 200 else ("", False)
        if ended and text == answer:
            completed += 1
        elif got.status == 503:
            unavailable += 1
        else:
            kind = got.error or (f"status {got.status}" if got.status != 200 else "incomplete")
            other[kind] = other.get(kind, 0) + 1
        if got.first_token is not None:
            lags.append(got.first_token)
    return {
        "readers": readers,
        "completed": completed,
        "unavailable": unavailable,
        "other": other,
        "first_token_p50_ms": percentile(lags, 0.5) * 1000,
        "first_token_p99_ms": percentile(lags, 0.99) * 1000,
        "cpu_ms_per_reader": cpu * 1000 / readers,
        "gateway_cpu_s": cpu,
        "cpu_s": spent,
        "seconds": elapsed,
        "load": load,
        "answers": users,
        "words": words,
        "logs": str(log_dir),
    }


def row(label: str, f: dict[str, Any]) -> str:
    other = ", ".join(f"{k}: {v}" for k, v in sorted(f["other"].items())) or "none"
    return (
        f"| {label} | {f['readers']} | {f['completed']} | {f['unavailable']} | {other} "
        f"| {f['first_token_p50_ms']:.0f} | {f['first_token_p99_ms']:.0f} "
        f"| {f['cpu_ms_per_reader']:.2f} | {f['load']:.1f} |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=375)
    parser.add_argument("--per-user", type=int, default=8, help="readers per user (its cap)")
    parser.add_argument("--words", type=int, default=300, help="echo-slow: 50 ms a word")
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds a reader waits")
    parser.add_argument("--save", type=Path, help="write the figures to this JSON file")
    parser.add_argument("--before", type=Path, help="figures of a run on the previous code")
    parser.add_argument("--no-report", action="store_true", help="do not touch docs/")
    parser.add_argument("--figures", type=Path, help="report these saved figures, run nothing")
    args = parser.parse_args()

    if args.figures:
        figures = json.loads(args.figures.read_text())
    else:
        figures = run(args.users, args.per_user, args.words, args.timeout)
    if args.save:
        args.save.write_text(json.dumps(figures))
    rows = [
        "| code | readers | completed | 503 | other failures | first token p50 ms "
        "| p99 ms | gateway CPU ms per reader | load (1 min) before |",
        "|---|---:|---:|---:|---|---:|---:|---:|---:|",
    ]
    if args.before:
        rows.append(row("before", json.loads(args.before.read_text())))
    rows.append(row("after" if args.before else "this code", figures))
    body = "\n".join(
        [
            "## Reader burst (`make bench-burst`)",
            "",
            f"{args.users} users each post one `echo-slow` answer of {args.words} words "
            f"(~{args.words * 0.05:.0f} s), then open {args.per_user} readers of it at the "
            f"same moment: {figures['readers']} SSE connections in one burst to one gateway "
            "(`GET .../messages/{id}/stream` from the start), on the default stack (one "
            "gateway, one threads service, one worker taking every answer at once), embedded "
            f"Postgres and NATS, all on one machine ({platform.machine()}, {os.cpu_count()} "
            "CPUs, shared with other engineers' test runs: the load column is the machine's "
            "before the run). Completed: `message_end` and exactly the answer's text.",
            "",
            *rows,
            "",
            f"CPU seconds each process got during the burst ({figures['seconds']:.0f} s): "
            + ", ".join(f"{name} {spent:.1f}" for name, spent in figures["cpu_s"].items())
            + ". A first token comes late when the gateway, and the threads service "
            "answering its lookups, get too little of the shared machine: none of them used "
            "a core of its own here.",
            "",
            "Run 2026-12-02.",
        ]
    )
    print(body)
    print(
        "CPU seconds during the burst:", json.dumps(figures["cpu_s"]), f"{figures['seconds']:.1f} s"
    )
    print(f"service logs: {figures['logs']}")
    if not args.no_report:
        replace_section("bench-burst", body)
    print(
        f"RESULT readers={figures['readers']} completed={figures['completed']} "
        f"first_token_p99_ms={figures['first_token_p99_ms']:.0f} "
        f"cpu_ms_per_reader={figures['cpu_ms_per_reader']:.2f}"
    )
    return 0 if figures["completed"] == figures["readers"] else 1


if __name__ == "__main__":
    sys.exit(main())
