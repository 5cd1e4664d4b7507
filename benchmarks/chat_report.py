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


def _busy(row: dict[str, Any] | None) -> str:
    """How much of the machine the stack's own processes used at C=50."""
    if row is None:
        return ""
    per_stream = sum(
        v
        for k, v in row.items()
        if k.startswith("cpu_") and k.endswith("_ms_per_req") and k != "cpu_worker_ms_per_req"
    )
    cores = per_stream * row["req_per_s"] / 1000
    return (
        f"At C=50 the measured processes (services, NATS, Postgres, fake provider) used "
        f"{per_stream:.0f} ms of CPU per stream, "
        f"{cores:.2f} of the machine's cores at that rate; the load generator and anything "
        "else running on the machine had the rest, so absolute figures move from run to run "
        "with the machine's other load; compare ratios within one run."
    )


def _targets(summary: dict[str, float | None]) -> list[str]:
    def verdict(ok: bool | None) -> str:
        return "not measured" if ok is None else ("met" if ok else "**not met**")

    ours, lite = summary["ttft_overhead_ms_c1"], summary["litellm_ttft_overhead_ms_c1"]
    rate, lite_rate = summary["streams_per_s_c50"], summary["litellm_streams_per_s_c50"]
    chunk = summary["gateway_cpu_us_per_chunk"]
    return [
        "| target | this run |",
        "| --- | --- |",
        "| TTFT overhead at C=1 no larger than LiteLLM's | "
        + verdict(None if ours is None or lite is None else ours <= lite)
        + " |",
        "| streams/s at C=50 at least 4x LiteLLM's | "
        + verdict(None if rate is None or not lite_rate else rate >= 4 * lite_rate)
        + " |",
        "| gateway CPU under 50 µs per streamed chunk | "
        + verdict(None if chunk is None else chunk < 50)
        + " |",
    ]


def _rounds(rounds: list[dict[str, float]]) -> list[str]:
    """The interleaved C=1 rounds the TTFT headline comes from."""
    if not rounds:
        return []
    won = sum(r["switchboard"] <= r["litellm"] for r in rounds)
    return [
        "The TTFT overheads of the headline come from interleaved C=1 rounds: each round runs "
        "a few seconds of chats through Switchboard, then straight to the fake server, then "
        "through LiteLLM, so all three see the same machine (its speed drifts by a third "
        "within minutes here, more than the overheads compared). The headline is the median "
        f"over rounds of each p50 minus direct's; Switchboard's first token came no later than "
        f"LiteLLM's in {won} of {len(rounds)} rounds. The C=1 rows of the table above were "
        "measured one after another, minutes apart.",
        "",
        "| round | Switchboard TTFT p50 ms | direct | LiteLLM | overhead: Switchboard | LiteLLM |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
        *(
            f"| {i} | {r['switchboard']:.2f} | {r['direct']:.2f} | {r['litellm']:.2f} | "
            f"{r['switchboard'] - r['direct']:.2f} | {r['litellm'] - r['direct']:.2f} |"
            for i, r in enumerate(rounds, 1)
        ),
        "",
    ]


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
    rounds: list[dict[str, float]] | None = None,
) -> None:
    today = datetime.date.today().isoformat()
    ours = [r for r in rows if r["label"].startswith("switchboard")]
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
        f"| {r['label']} | {r['concurrency']} | {r['sse_events_per_stream']:.1f} "
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
            "Gateway CPU per streamed chunk = the gateway's CPU per stream divided by the "
            "provider's 200 chunks, the unit the anchors use for LiteLLM (about 180 ms per "
            "stream, 0.9 ms per chunk). The worker coalesces a fast provider's deltas (at most "
            "30 ms or 2,048 characters each), so those 200 chunks reach the client as a few "
            "SSE events and the gateway's cost is mostly per request (auth, the command, the "
            "token consumer). *uncoalesced* restarts the worker with coalescing off, so every "
            "upstream chunk becomes its own SSE `token` event: the worst case per event.",
            "",
            "| run | C | SSE token events per answer | gateway µs per upstream chunk | "
            "gateway µs per SSE event |",
            "| --- | ---: | ---: | ---: | ---: |",
            *chunk_rows,
            "",
            f"Headline: TTFT overhead over direct at C=1 "
            f"{_num(summary['ttft_overhead_ms_c1'], 2)} ms (LiteLLM "
            f"{_num(summary['litellm_ttft_overhead_ms_c1'], 2)} ms); "
            f"{_num(summary['streams_per_s_c50'])} streams/s at C=50 (LiteLLM "
            f"{_num(summary['litellm_streams_per_s_c50'])}); gateway "
            f"{_num(summary['gateway_cpu_us_per_chunk'], 1)} µs CPU per chunk "
            f"({_num(summary.get('gateway_cpu_us_per_sse_event_uncoalesced'), 1)} µs per SSE "
            "event with coalescing off).",
            "",
            *_targets(summary),
            "",
            *_rounds(rounds or []),
            "Time to first token is a chain of hops on the same two cores: the gateway sends "
            "`PostChat`; the threads service stores the user message and the answer request "
            "and reads the chat context in one transaction (five SQL round trips with the "
            "commit, fsync on), replies, and once committed pushes the context to the workers "
            "and publishes the request to `EVENTS` (fsynced); the worker fetches it, calls the "
            "provider with the pushed context and publishes the first delta to `TOKENS`, "
            "which the gateway's ordered consumer turns into the first SSE event. "
            "LiteLLM stores nothing before it calls upstream. "
            + _busy(by.get(("switchboard", 50))),
            "",
            f"Run {today} on {machine}; one threads service, one gateway, {workers} chat "
            f"worker(s); Postgres with fsync on and nats-server with `sync_interval: always` "
            f"(`TOKENS` with `persist_mode: async`, as deployed), "
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
