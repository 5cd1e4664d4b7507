"""Writes bench_chat's section of docs/benchmarks.md (between its markers; the other sections
of the file are left as they are)."""

from __future__ import annotations

import datetime
import re
from pathlib import Path
from typing import Any

START = "<!-- bench-chat:start -->"
END = "<!-- bench-chat:end -->"
SERVICES = ("gateway", "threads", "worker", "nats", "postgres", "litellm", "fake")


def _num(value: float | None, digits: int = 1) -> str:
    return "—" if value is None or value != value else f"{value:,.{digits}f}"


def _cpu(row: dict[str, Any]) -> str:
    parts = []
    for name in SERVICES:
        value = row.get(f"cpu_{name}_ms_per_req")
        if value is not None:
            parts.append(f"{name} {value:.1f}")
    return ", ".join(parts)


def _row(r: dict[str, Any]) -> str:
    return (
        f"| {r['label']} | {r['concurrency']} | {r['ok']}/{r['requests']} "
        f"| {_num(r['ttft_ms']['p50'], 2)} | {_num(r['ttft_ms']['p99'], 2)} "
        f"| {_num(r['total_ms']['p50'], 1)} | {_num(r['total_ms']['p99'], 1)} "
        f"| {_num(r['req_per_s'])} | {_num(r['tokens_per_s'], 0)} | {_cpu(r)} |"
    )


def _ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or not b:
        return "NA"
    return f"{a / b:.1f}x"


def write_section(
    path: Path,
    rows: list[dict[str, Any]],
    summary: dict[str, float | None],
    *,
    machine: str,
    workers: int,
    stored: int,
    measured: int,
    litellm_note: str,
    seconds: float,
) -> None:
    today = datetime.date.today().isoformat()
    ours = [r for r in rows if r["label"] == "switchboard"]
    by = {(r["label"], r["concurrency"]): r for r in rows}
    ratios = []
    for conc in sorted({r["concurrency"] for r in rows}):
        mine, direct, lite = (by.get((k, conc)) for k in ("switchboard", "direct", "litellm"))
        if mine is None:
            continue
        direct_ttft = direct["ttft_ms"]["p50"] if direct else None
        ratios.append(
            f"| {conc} | {_ratio(mine['ttft_ms']['p50'], direct_ttft)} "
            f"| {_ratio(lite['ttft_ms']['p50'] if lite else None, mine['ttft_ms']['p50'])} "
            f"| {_ratio(mine['req_per_s'], lite['req_per_s'] if lite else None)} "
            f"| {_ratio(direct['req_per_s'] if direct else None, mine['req_per_s'])} |"
        )
    chunk_rows = [
        f"| {r['concurrency']} | {r['sse_events_per_stream']:.1f} "
        f"| {r['gateway_us_per_chunk']:.1f} | {r['gateway_us_per_sse_event']:.1f} |"
        for r in ours
    ]
    body = "\n".join(
        [
            START,
            "## Chat streaming (`benchmarks/bench_chat.py`, `make bench-chat`)",
            "",
            "A local OpenAI-wire-format server (`shared/bench/peer/fake_openai.py`) streams "
            "200-token answers as fast as it can. *switchboard*: `POST /api/threads/{id}/chat` "
            "through the gateway → NATS → threads service (user message and answer request "
            "stored) → outbox relay → JetStream → chat worker (official `openai` SDK) → TOKENS "
            "stream → gateway SSE, each chat in a fresh thread bound to the `openai` provider; "
            "every answer is stored by the threads service before its stream ends. *direct*: "
            "the same load straight to the fake server; *litellm*: through a LiteLLM proxy "
            f"({litellm_note}); both with the peer harness's raw client. Closed loop, C chats "
            "in flight. Times in ms; CPU in ms per stream of each process.",
            "",
            "| target | C | ok | TTFT p50 | TTFT p99 | total p50 | total p99 | streams/s | "
            "tokens/s | CPU ms/stream |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
            *(_row(r) for r in rows),
            "",
            "| C | our TTFT / direct | LiteLLM TTFT / ours | our streams/s / LiteLLM's "
            "| direct streams/s / ours |",
            "| ---: | ---: | ---: | ---: | ---: |",
            *ratios,
            "",
            "Gateway CPU per streamed chunk: per upstream chunk (the provider's 200 per "
            "answer, LiteLLM's unit) and per SSE `token` event (the worker coalesces deltas "
            "while a publish is in flight, so a fast provider's 200 chunks arrive as fewer "
            "events).",
            "",
            "| C | SSE token events per answer | gateway µs per upstream chunk | "
            "gateway µs per SSE event |",
            "| ---: | ---: | ---: | ---: |",
            *chunk_rows,
            "",
            f"Headline: TTFT overhead over direct at C=1 "
            f"{_num(summary['ttft_overhead_ms_c1'], 2)} ms (LiteLLM "
            f"{_num(summary['litellm_ttft_overhead_ms_c1'], 2)} ms); "
            f"{_num(summary['streams_per_s_c50'])} streams/s at C=50 (LiteLLM "
            f"{_num(summary['litellm_streams_per_s_c50'])}); gateway "
            f"{_num(summary['gateway_cpu_us_per_chunk'], 1)} µs CPU per chunk. Targets: TTFT "
            "overhead no larger than LiteLLM's, at least 4x LiteLLM's streams/s at C=50, under "
            "50 µs gateway CPU per chunk.",
            "",
            f"Run {today} on {machine}; one threads service, one gateway, {workers} chat "
            f"worker(s); Postgres with fsync on and nats-server with `sync_interval: always`, "
            f"all on the same machine as the load generator and the fake server. "
            f"{stored} complete answers were stored for {measured} measured chats (plus "
            f"warm-ups). The whole run took {seconds:.0f} s.",
            END,
        ]
    )
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    pattern = re.compile(re.escape(START) + r".*?" + re.escape(END), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: body, text)
    else:
        text = text.rstrip("\n") + "\n\n" + body + "\n"
    path.write_text(text)
