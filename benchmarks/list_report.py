"""Writes bench_list's section of docs/benchmarks.md (between its markers; other sections of
the file are left as they are)."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

START = "<!-- bench-list:start -->"
END = "<!-- bench-list:end -->"


def _row(name: str, stack: Any, naive: Any | None) -> str:
    if naive is None:
        return f"| {name} | {stack.p50:.2f} | {stack.p99:.2f} | — | — | — |"
    ratio = naive.p99 / stack.p99 if stack.p99 else float("inf")
    return (
        f"| {name} | {stack.p50:.2f} | {stack.p99:.2f} | {naive.p50:.2f} | {naive.p99:.2f} "
        f"| {ratio:.1f}x |"
    )


def write_section(
    path: Path,
    rows: list[tuple[str, Any, Any | None]],
    *,
    threads: int,
    messages: int,
    requests: int,
    seed_seconds: float,
    total_seconds: float,
    machine: str,
) -> None:
    today = datetime.date.today().isoformat()
    body = "\n".join(
        [
            START,
            "## Thread list (`benchmarks/bench_list.py`, `make bench-list`)",
            "",
            f"One user with {threads:,} threads (a fifth of them in 50 projects) and "
            f"{messages:,} messages; `GET /api/threads`, page size 25, {requests} sequential "
            "requests per row after 20 warm-up requests. *Stack* is the whole path: HTTP → "
            "gateway → NATS → threads service → Postgres and back. *Naive* runs straight "
            "against Postgres (no HTTP, no NATS): the same page of threads, then every "
            "thread's messages loaded and counted with `len()`, as a plain ORM would. "
            "Ratio = naive p99 / stack p99.",
            "",
            "| query | stack p50 ms | stack p99 ms | naive p50 ms | naive p99 ms | ratio (p99) |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
            *(_row(*r) for r in rows),
            "",
            f"Run {today} on {machine}, embedded Postgres and nats-server on the same machine "
            f"(fsync off). Seeding (bulk COPY of the handlers' events, read models built from "
            f"them, a sample checked against the live projector) took {seed_seconds:.0f} s; "
            f"the whole run {total_seconds:.0f} s. The target is page 1 p99 under 25 ms.",
            END,
        ]
    )
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    if START in text and END in text:
        head, rest = text.split(START, 1)
        _, tail = rest.split(END, 1)
        text = head + body + tail
    else:
        text = text.rstrip("\n") + "\n\n" + body + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
