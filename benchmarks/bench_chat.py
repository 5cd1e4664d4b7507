"""Benchmark: a streamed chat through the whole stack against a fake OpenAI server, side by side
with the same load sent straight to that server and through a LiteLLM proxy.

Starts its own Postgres (fsync on) and nats-server (JetStream `sync_interval: always`), as
`make up` does, a fresh migrated database, the fake OpenAI server of `shared/bench/peer`
(200-token answers as fast as it can), the threads service, the gateway and the chat worker(s)
bound through the `openai` provider to the fake server, and LiteLLM 1.106.2 (`--litellm-bin`;
by default the one `peers.ensure_litellm` installs into `.data/bench/litellm-venv` on first use).

At 1, 10 and 50 concurrent chats (closed loop, each chat in a fresh thread, every answer stored
by the threads service before the stream ends) it measures time to first token and total
stream time (p50, p99), streams/s, tokens/s and CPU per stream of every process. The direct
and LiteLLM runs use the peer harness's raw client (`bench_stream.py`) against the same fake
server. Then the C=1 comparison again, interleaved: `--c1-rounds` rounds of
`--c1-round-requests` chats each through Switchboard, direct and LiteLLM in turn, so all three
see the same machine; the RESULT's TTFT overheads are the medians over those rounds (without
LiteLLM, the sequential C=1 rows'). Writes its section of docs/benchmarks.md and ends with one
line:

RESULT ttft_overhead_ms_c1=… litellm_ttft_overhead_ms_c1=… streams_per_s_c50=…
       litellm_streams_per_s_c50=… gateway_cpu_us_per_chunk=…   (on one line)

Run: `uv run python benchmarks/bench_chat.py` (or `make bench-chat`).
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import os
import platform
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PEER = ROOT.parent / "shared" / "bench" / "peer"
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks"), str(PEER)]

import bench_stream  # noqa: E402  (the peer harness: direct and LiteLLM runs)
import httpx  # noqa: E402
import psutil  # noqa: E402
from chat_load import Level, pct, run_level  # noqa: E402
from chat_report import write_section  # noqa: E402
from peers import LITELLM_BIN, ensure_litellm  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402
from tests.support.database import create_migrated_database  # noqa: E402
from tests.support.servers import free_port  # noqa: E402
from tests.support.stack import ServiceProcess, executable, service_env, wait_ready  # noqa: E402

from devstack.nats import start_nats  # noqa: E402
from devstack.postgres import start_postgres  # noqa: E402

TOKENS = 200
PROMPT = "Say something. " * 10  # the peer harness's 30-word prompt
MODEL = "fake-model"
ROUND_WARMUP = 3  # chats of each kind before a round is measured
FLAT_C = 10  # concurrency of the uncoalesced run


def cpu_of(pid: int) -> float:
    """CPU seconds of a process and all its descendants, including those that have exited
    (Postgres forks a backend per connection; its postmaster reaps them, and their time is
    counted in its `children_*` times)."""
    try:
        root = psutil.Process(pid)
        times = root.cpu_times()
        total = times.user + times.system + times.children_user + times.children_system
        for child in root.children(recursive=True):
            try:
                t = child.cpu_times()
                total += t.user + t.system
            except psutil.Error:
                pass
        return float(total)
    except psutil.Error:
        return float("nan")


def wait_http(url: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    return False


def stop_group(proc: subprocess.Popen[bytes] | None) -> None:
    """Stop a process we started in its own session, and only its group."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


def spawn(argv: list[str], log: Path, env: dict[str, str] | None = None, cwd: Path | None = None):  # type: ignore[no-untyped-def]
    return subprocess.Popen(
        argv,
        stdout=open(log, "wb"),
        stderr=subprocess.STDOUT,
        env=env,
        cwd=cwd,
        start_new_session=True,
    )


async def prepare(base_url: str, count: int) -> tuple[str, list[str]]:
    """A user and `count` fresh threads bound to the fake model (titled, so no title calls)."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        r = await http.post(
            "/api/auth/register",
            json={"email": f"bench-{secrets.token_hex(6)}@example.com", "password": "benchmark-pw"},
        )
        r.raise_for_status()
        token = r.json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        sem = asyncio.Semaphore(16)

        async def create(i: int) -> str:
            async with sem:
                r = await http.post(
                    "/api/threads",
                    headers=headers,
                    json={"title": f"bench {i}", "model_provider": "openai", "model": MODEL},
                )
                r.raise_for_status()
                return str(r.json()["id"])

        threads = await asyncio.gather(*(create(i) for i in range(count)))
        # The worker imports its SDKs at start: wait until one chat gets answered.
        for _ in range(120):
            async with http.stream(
                "POST",
                f"/api/threads/{threads[0]}/chat",
                json={"content": "ready?"},
                headers=headers,
            ) as resp:
                body = (await resp.aread()).decode()
            if "event: message_end" in body:
                break
            await asyncio.sleep(0.5)
        else:
            raise RuntimeError(f"the stack never answered a chat: {body[:300]}")
    return token, list(threads[1:])


async def wait_answering(base_url: str, token: str, thread_id: str) -> None:
    """Until a (restarted) worker answers a chat."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        for _ in range(120):
            async with http.stream(
                "POST",
                f"/api/threads/{thread_id}/chat",
                json={"content": "ready?"},
                headers={"Authorization": f"Bearer {token}"},
            ) as resp:
                if "event: message_end" in (await resp.aread()).decode():
                    return
            await asyncio.sleep(0.5)
    raise RuntimeError("the restarted worker never answered")


def summarise_ours(level: Level, workers: list[str]) -> dict[str, Any]:
    ok = [c for c in level.chats if c.ok]
    n = max(1, len(level.chats))
    ms = [c.ttft * 1000 for c in ok]
    total = [c.total * 1000 for c in ok]
    events = sum(c.events for c in ok)
    row: dict[str, Any] = {
        "label": "switchboard",
        "concurrency": level.concurrency,
        "requests": len(level.chats),
        "ok": len(ok),
        "errors": len(level.chats) - len(ok),
        "first_error": next((c.error for c in level.chats if not c.ok), None),
        "short_answers": sum(1 for c in ok if c.words != TOKENS),
        "ttft_ms": {"p50": pct(ms, 50), "p99": pct(ms, 99)},
        "total_ms": {"p50": pct(total, 50), "p99": pct(total, 99)},
        "req_per_s": len(ok) / level.wall if level.wall else 0.0,
        "tokens_per_s": sum(c.words for c in ok) / level.wall if level.wall else 0.0,
        "sse_events_per_stream": events / max(1, len(ok)),
    }
    for name, seconds in level.cpu.items():
        row[f"cpu_{name}_ms_per_req"] = 1000 * seconds / n
    row["cpu_worker_ms_per_req"] = sum(row[f"cpu_{w}_ms_per_req"] for w in workers)
    gateway_s = level.cpu.get("gateway", 0.0)
    row["gateway_us_per_chunk"] = 1e6 * gateway_s / max(1, len(ok) * TOKENS)
    row["gateway_us_per_sse_event"] = 1e6 * gateway_s / max(1, events)
    return row


def peer_args(label: str, base_url: str, key: str, max_seconds: float) -> SimpleNamespace:
    return SimpleNamespace(
        label=label,
        base_url=base_url,
        api_key=key,
        model=MODEL,
        tokens=TOKENS,
        client="raw",
        timeout=120.0,
        prompt_words=30,
        record_header=None,
        warmup=20,
        max_seconds=max_seconds,
    )


def print_row(r: dict[str, Any]) -> None:
    cpu = " ".join(
        f"{k[4:-11]}={r[k]:.2f}" for k in r if k.startswith("cpu_") and k.endswith("_ms_per_req")
    )
    print(
        f"{r['label']:<12} c={r['concurrency']:<3} ok={r['ok']}/{r['requests']} "
        f"TTFT p50 {r['ttft_ms']['p50']:.2f} p99 {r['ttft_ms']['p99']:.2f} ms | "
        f"total p50 {r['total_ms']['p50']:.2f} p99 {r['total_ms']['p99']:.2f} ms | "
        f"{r['req_per_s']:.1f} streams/s {r['tokens_per_s']:.0f} tok/s | CPU ms/stream {cpu}",
        flush=True,
    )
    if r.get("first_error"):
        print("   first error:", r["first_error"], flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--concurrency", default="1,10,50")
    ap.add_argument("--requests", default="150,300,600", help="ours, per level")
    ap.add_argument("--direct-requests", default="300,500,1000")
    ap.add_argument("--litellm-requests", default="60,120,300")
    ap.add_argument("--workers", type=int, default=1, help="chat worker processes")
    ap.add_argument("--max-seconds", type=float, default=60.0, help="cap per level")
    ap.add_argument("--litellm-bin", default=str(LITELLM_BIN))
    ap.add_argument("--no-litellm", action="store_true")
    ap.add_argument(
        "--c1-rounds",
        type=int,
        default=8,
        help="interleaved C=1 rounds (ours, direct, LiteLLM in turn) for the headline TTFT",
    )
    ap.add_argument("--c1-round-requests", type=int, default=20, help="chats of each, per round")
    ap.add_argument("--no-report", action="store_true", help="do not touch docs/benchmarks.md")
    args = ap.parse_args()
    concs = [int(x) for x in args.concurrency.split(",")]
    ours_n = [int(x) for x in args.requests.split(",")]
    direct_n = [int(x) for x in args.direct_requests.split(",")]
    litellm_n = [int(x) for x in args.litellm_requests.split(",")]

    started = time.monotonic()
    (ROOT / ".data" / "bench").mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="bench-chat-", dir=ROOT / ".data" / "bench"))
    print(f"bench-chat: working in {root}", flush=True)
    procs: list[subprocess.Popen[bytes]] = []
    services: list[ServiceProcess] = []
    infra_log = open(root / "infra.log", "wb")  # noqa: SIM115
    pg = start_postgres(
        root / "pg", free_port(), stdout=infra_log, stderr=subprocess.STDOUT, fsync=True
    )
    nats = start_nats(
        root / "nats", free_port(), stdout=infra_log, stderr=subprocess.STDOUT, sync_always=True
    )
    try:
        database_url = create_migrated_database(pg.dsn, prefix="bench_chat")
        fake_port = free_port()
        fake = spawn(
            [sys.executable, str(PEER / "fake_openai.py"), "--port", str(fake_port)],
            root / "fake.log",
        )
        procs.append(fake)
        if not wait_http(f"http://127.0.0.1:{fake_port}/health", 30):
            raise RuntimeError("the fake OpenAI server did not start")
        fake_url = f"http://127.0.0.1:{fake_port}/v1"

        port = free_port()
        env = service_env(
            {
                "THREADS_DATABASE_URL": database_url,
                "THREADS_NATS_URL": nats.url,
                "GATEWAY_NATS_URL": nats.url,
                "GATEWAY_PORT": str(port),
                # One user drives the whole load: per-user limits are not what is measured.
                "GATEWAY_RATE_LIMIT_WRITES_PER_MINUTE": "0",
                "GATEWAY_RATE_LIMIT_CHATS_PER_MINUTE": "0",
                "GATEWAY_MAX_STREAMS_PER_USER": "0",
                "WORKER_NATS_URL": nats.url,
                "WORKER_OPENAI_BASE_URL": fake_url,
                "OPENAI_API_KEY": "sk-bench-" + secrets.token_hex(8),
                "WORKER_MAX_TOKENS": str(TOKENS),
                "WORKER_CONCURRENCY": "64",
            }
        )
        specs = [
            ("threads", [executable("switchboard-threads"), "serve"]),
            ("gateway", [executable("switchboard-gateway")]),
        ]
        workers = [f"worker{i}" for i in range(1, args.workers + 1)]
        specs += [(w, [executable("switchboard-chat-worker")]) for w in workers]
        for name, argv in specs:
            svc = ServiceProcess(name, argv, env, root / f"{name}.log")
            svc.start()
            services.append(svc)
        base_url = f"http://127.0.0.1:{port}"
        wait_ready(base_url, services, timeout=120)
        flat_n = ours_n[min(1, len(ours_n) - 1)]  # chats of the uncoalesced run
        total_threads = sum(ours_n) + flat_n + 64 * (len(concs) + 1) + 3
        total_threads += args.c1_rounds * (args.c1_round_requests + ROUND_WARMUP)
        token, threads = asyncio.run(prepare(base_url, total_threads))
        print(f"stack up: {len(threads)} threads ready", flush=True)

        cpu = {svc.name: (lambda pid=svc.pid: cpu_of(pid)) for svc in services}
        cpu["nats"] = lambda: cpu_of(nats.process.pid)
        cpu["postgres"] = lambda: cpu_of(pg.process.pid)
        cpu["fake"] = lambda: cpu_of(fake.pid)
        rows: list[dict[str, Any]] = []
        pool = iter(threads)
        for conc, n in zip(concs, ours_n, strict=True):
            batch = [next(pool) for _ in range(n + 64)]
            level = asyncio.run(
                run_level(base_url, token, batch, conc, n, PROMPT, cpu, args.max_seconds, warmup=10)
            )
            row = summarise_ours(level, workers)
            rows.append(row)
            print_row(row)
        # The gateway's per-chunk cost with nothing coalesced: one SSE event per upstream chunk.
        for svc in [s for s in services if s.name in workers]:
            svc.stop()
            services.remove(svc)
        flat_env = {**env, "WORKER_COALESCE_CHARS": "1", "WORKER_COALESCE_INTERVAL": "0"}
        for name in workers:
            svc = ServiceProcess(
                name, [executable("switchboard-chat-worker")], flat_env, root / f"{name}-flat.log"
            )
            svc.start()
            services.append(svc)
            cpu[name] = lambda pid=svc.pid: cpu_of(pid)
        batch = [next(pool) for _ in range(flat_n + 64)]
        asyncio.run(wait_answering(base_url, token, next(pool)))
        level = asyncio.run(
            run_level(
                base_url, token, batch, FLAT_C, flat_n, PROMPT, cpu, args.max_seconds, warmup=10
            )
        )
        flat = summarise_ours(level, workers)
        flat["label"] = "switchboard, uncoalesced"
        rows.append(flat)
        print_row(flat)
        stored = asyncio.run(count_stored(database_url))

        for conc, n in zip(concs, direct_n, strict=True):
            res = asyncio.run(
                bench_stream.run_level(
                    peer_args("direct", fake_url, "sk-fake", args.max_seconds),
                    conc,
                    n,
                    {"fake": fake.pid},
                )
            )
            rows.append(res)
            print_row(res)

        litellm_note, litellm = run_litellm(
            args, root, fake_port, concs, litellm_n, fake.pid, rows, procs
        )
        rounds: list[dict[str, float]] = []
        if litellm is not None and 1 in concs and args.c1_rounds > 0:
            peers: dict[str, tuple[SimpleNamespace, dict[str, int]]] = {
                "direct": (peer_args("direct", fake_url, "sk-fake", args.max_seconds), {}),
                "litellm": (peer_args("litellm", *litellm, args.max_seconds), {}),
            }
            for i in range(args.c1_rounds):
                batch = [next(pool) for _ in range(args.c1_round_requests + ROUND_WARMUP)]
                rounds.append(
                    asyncio.run(c1_round(base_url, token, batch, args.c1_round_requests, peers))
                )
                r = rounds[-1]
                print(
                    f"C=1 round {i + 1}: TTFT p50 ours {r['switchboard']:.2f} direct "
                    f"{r['direct']:.2f} litellm {r['litellm']:.2f} ms",
                    flush=True,
                )
        ok_total = sum(r["ok"] for r in rows if r["label"] == "switchboard")
        machine = f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
        summary = headline(rows, rounds)
        if not args.no_report:
            write_section(
                ROOT / "docs" / "benchmarks.md",
                rows,
                summary,
                machine=machine,
                workers=args.workers,
                stored=stored,
                measured=ok_total,
                litellm_note=litellm_note,
                seconds=time.monotonic() - started,
                rounds=rounds,
            )
        print(
            f"stored answers: {stored} complete assistant messages for {ok_total} measured "
            "chats (+ warm-ups)",
            flush=True,
        )
        print(
            "RESULT "
            f"ttft_overhead_ms_c1={fmt(summary['ttft_overhead_ms_c1'])} "
            f"litellm_ttft_overhead_ms_c1={fmt(summary['litellm_ttft_overhead_ms_c1'])} "
            f"streams_per_s_c50={fmt(summary['streams_per_s_c50'])} "
            f"litellm_streams_per_s_c50={fmt(summary['litellm_streams_per_s_c50'])} "
            f"gateway_cpu_us_per_chunk={fmt(summary['gateway_cpu_us_per_chunk'])}",
            flush=True,
        )
        return 0
    finally:
        for svc in reversed(services):
            svc.stop()
        for proc in reversed(procs):
            stop_group(proc)
        nats.stop()
        pg.stop()
        infra_log.close()
        if not os.environ.get("BENCH_KEEP"):
            shutil.rmtree(root, ignore_errors=True)


def run_litellm(
    args: argparse.Namespace,
    root: Path,
    fake_port: int,
    concs: list[int],
    counts: list[int],
    fake_pid: int,
    rows: list[dict[str, Any]],
    procs: list[subprocess.Popen[bytes]],
) -> tuple[str, tuple[str, str] | None]:
    """LiteLLM's rows, or why there are none; and its (base URL, key) while it runs."""
    if args.no_litellm:
        return "LiteLLM skipped (--no-litellm)", None
    binary = Path(args.litellm_bin)
    missing = ensure_litellm(binary)
    if missing is not None:
        return f"{missing}: figures NA", None
    key = "sk-bench-" + secrets.token_hex(16)
    config = (
        (PEER / "litellm_config.yaml")
        .read_text()
        .replace("127.0.0.1:9100", f"127.0.0.1:{fake_port}")
    )
    (root / "litellm.yaml").write_text(config)
    port = free_port()
    env = dict(
        os.environ,
        LITELLM_MASTER_KEY=key,
        LITELLM_LOCAL_MODEL_COST_MAP="True",
        LITELLM_TELEMETRY="False",
    )
    proc = spawn(
        [
            str(binary),
            "--config",
            str(root / "litellm.yaml"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--num_workers",
            "1",
        ],
        root / "litellm.log",
        env=env,
        cwd=root,
    )
    procs.append(proc)
    if not wait_http(f"http://127.0.0.1:{port}/health/liveliness", 120):
        return "LiteLLM did not start: figures NA", None
    time.sleep(2)
    for conc, n in zip(concs, counts, strict=True):
        res = asyncio.run(
            bench_stream.run_level(
                peer_args("litellm", f"http://127.0.0.1:{port}/v1", key, args.max_seconds),
                conc,
                n,
                {"litellm": proc.pid, "fake": fake_pid},
            )
        )
        rows.append(res)
        print_row(res)
    version = "1.106.2"
    return f"LiteLLM {version}, 1 worker", (f"http://127.0.0.1:{port}/v1", key)


async def c1_round(
    base_url: str,
    token: str,
    threads: list[str],
    n: int,
    peers: dict[str, tuple[SimpleNamespace, dict[str, int]]],
) -> dict[str, float]:
    """One round of the interleaved C=1 comparison: `n` chats through Switchboard, then `n`
    straight to the fake server and `n` through LiteLLM, back to back; each one's p50 TTFT.

    This machine's speed drifts by a third within minutes, so C=1 runs of each taken one
    after another, minutes apart, can differ by more than the overheads compared. Rounds of
    a few seconds each see the same machine; the headline is the median over rounds."""
    level = await run_level(base_url, token, threads, 1, n, PROMPT, {}, 60.0, warmup=ROUND_WARMUP)
    ours = [c.ttft for c in level.chats if c.ok]
    out = {"switchboard": statistics.median(ours) * 1000 if ours else float("nan")}
    for name, (peer, pids) in peers.items():
        res = await bench_stream.run_level(copy.copy(peer), 1, n, pids)
        out[name] = float(res["ttft_ms"]["p50"]) if res["ok"] else float("nan")
    return out


async def count_stored(database_url: str) -> int:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            return int(
                await conn.scalar(
                    text(
                        "select count(*) from messages"
                        " where role = 'assistant' and status = 'complete'"
                    )
                )
                or 0
            )
    finally:
        await engine.dispose()


def find(rows: list[dict[str, Any]], label: str, conc: int) -> dict[str, Any] | None:
    return next((r for r in rows if r["label"] == label and r["concurrency"] == conc), None)


def headline(
    rows: list[dict[str, Any]], rounds: list[dict[str, float]] | None = None
) -> dict[str, float | None]:
    """The RESULT figures. With interleaved C=1 rounds, the TTFT overheads are the medians of
    the rounds' (p50 - direct p50); without, the sequential C=1 rows'."""
    ours1, direct1, lite1 = (find(rows, k, 1) for k in ("switchboard", "direct", "litellm"))
    ours50, lite50 = find(rows, "switchboard", 50), find(rows, "litellm", 50)
    flat = find(rows, "switchboard, uncoalesced", FLAT_C)

    def over(r: dict[str, Any] | None) -> float | None:
        if r is None or direct1 is None or not r["ok"]:
            return None
        return float(r["ttft_ms"]["p50"] - direct1["ttft_ms"]["p50"])

    ours_over, lite_over, won = over(ours1), over(lite1), None
    if rounds:
        ours_over = statistics.median(r["switchboard"] - r["direct"] for r in rounds)
        lite_over = statistics.median(r["litellm"] - r["direct"] for r in rounds)
        won = float(sum(r["switchboard"] <= r["litellm"] for r in rounds))
    return {
        "ttft_overhead_ms_c1": ours_over,
        "litellm_ttft_overhead_ms_c1": lite_over,
        "c1_rounds": float(len(rounds)) if rounds else None,
        "c1_rounds_won": won,
        "streams_per_s_c50": ours50["req_per_s"] if ours50 else None,
        "litellm_streams_per_s_c50": lite50["req_per_s"] if lite50 and lite50["ok"] else None,
        # Gateway CPU per stream / the provider's 200 chunks, as the anchors measure LiteLLM's
        # (180 ms per 200-chunk stream = 0.9 ms per chunk); the uncoalesced run's per-event
        # figure is reported beside it.
        "gateway_cpu_us_per_chunk": ours50["gateway_us_per_chunk"] if ours50 else None,
        "gateway_cpu_us_per_sse_event_uncoalesced": (
            flat["gateway_us_per_sse_event"] if flat else None
        ),
    }


def fmt(value: float | None) -> str:
    return "NA" if value is None else f"{value:.2f}"


if __name__ == "__main__":
    sys.exit(main())
