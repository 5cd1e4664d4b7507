"""Writes bench_list's section of docs/benchmarks.md (`benchmarks.report` keeps the other
sections as they are)."""

from __future__ import annotations

import datetime
from typing import Any

from benchmarks.report import replace_section


def _row(name: str, stack: Any, naive: Any | None) -> str:
    if naive is None:
        return f"| {name} | {stack.p50:.2f} | {stack.p99:.2f} | — | — | — |"
    ratio = naive.p99 / stack.p99 if stack.p99 else float("inf")
    return (
        f"| {name} | {stack.p50:.2f} | {stack.p99:.2f} | {naive.p50:.2f} | {naive.p99:.2f} "
        f"| {ratio:.1f}x |"
    )


def write_section(
    rows: list[tuple[str, Any, Any | None]],
    *,
    threads: int,
    messages: int,
    requests: int,
    seed_seconds: float,
    total_seconds: float,
    machine: str,
    load: tuple[float, float],
) -> None:
    today = datetime.date.today().isoformat()
    body = "\n".join(
        [
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
            "Why the stack is fast: `message_count` and `last_activity_at` are kept on the "
            "thread row by the projections; `total` comes from counters the projections keep "
            "(`user_thread_counts`, `projects.thread_count`), except for a title search; the "
            "page's ids come from the `(user_id, last_activity_at DESC, id DESC)` index alone "
            "and only those rows are read (deep offsets still walk the index: use the cursor); "
            "titles are searched through a pg_trgm GIN index. The seeded events get no outbox "
            "rows (they count as already relayed), so the relay stays idle while timing.",
            "",
            f"Run {today} on {machine}, embedded Postgres and nats-server on the same machine "
            f"(fsync off); load average {load[0]:.1f} when timing began, {load[1]:.1f} when it "
            "ended (other work shared the machine; latencies move with it). Seeding (bulk COPY "
            "of the handlers' events, read models built from "
            f"them, a sample checked against the live projector) took {seed_seconds:.0f} s; "
            f"the whole run {total_seconds:.0f} s. The target is page 1 p99 under 25 ms.",
        ]
    )
    replace_section("bench-list", body)
