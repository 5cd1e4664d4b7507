"""The SSE load client of bench_chat: closed loop, C chats in flight, each in a fresh thread.

Per chat: time to the first `token` event (TTFT), time to the terminal event (total), the
number of `token` events, and the answer's words (the fake provider sends one word per chunk,
so words = upstream chunks). Parsing is by hand on raw lines: the client should cost little.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field

import httpx


@dataclass
class Chat:
    ok: bool
    ttft: float = 0.0
    total: float = 0.0
    events: int = 0
    words: int = 0
    error: str = ""


@dataclass
class Level:
    concurrency: int
    chats: list[Chat] = field(default_factory=list)
    wall: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)  # service → CPU seconds in the level


async def one_chat(http: httpx.AsyncClient, thread_id: str, prompt: str) -> Chat:
    t0 = time.perf_counter()
    ttft = None
    events = 0
    parts: list[str] = []
    name = ""
    try:
        async with http.stream(
            "POST", f"/api/threads/{thread_id}/chat", json={"content": prompt}
        ) as r:
            if r.status_code != 200:
                body = (await r.aread()).decode(errors="replace")[:200]
                return Chat(False, error=f"HTTP {r.status_code}: {body}")
            async for line in r.aiter_lines():
                if line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: "):
                    if name == "token":
                        if ttft is None:
                            ttft = time.perf_counter() - t0
                        events += 1
                        parts.append(json.loads(line[6:])["text"])
                    elif name in ("message_end", "error", "cancelled"):
                        total = time.perf_counter() - t0
                        if name != "message_end":
                            return Chat(False, error=f"{name}: {line[6:200]}")
                        text = "".join(parts)
                        return Chat(True, ttft or total, total, events, len(text.split()))
    except Exception as exc:
        return Chat(False, error=f"{type(exc).__name__}: {exc}"[:200])
    return Chat(False, error="stream ended without a terminal event")


async def run_level(
    base_url: str,
    token: str,
    threads: list[str],
    concurrency: int,
    requests: int,
    prompt: str,
    cpu: dict[str, object],
    max_seconds: float,
    warmup: int,
) -> Level:
    """`cpu` maps a name to a zero-argument callable giving CPU seconds so far."""
    limits = httpx.Limits(
        max_connections=concurrency + 8, max_keepalive_connections=concurrency + 8
    )
    level = Level(concurrency)
    async with httpx.AsyncClient(
        base_url=base_url,
        headers={"Authorization": f"Bearer {token}"},
        limits=limits,
        timeout=httpx.Timeout(120, connect=10),
    ) as http:
        pool = iter(threads)
        for _ in range(max(1, warmup // concurrency)):
            await asyncio.gather(*(one_chat(http, next(pool), prompt) for _ in range(concurrency)))
        started = 0
        deadline = time.perf_counter() + max_seconds

        async def loop() -> None:
            nonlocal started
            while started < requests and time.perf_counter() < deadline:
                started += 1
                level.chats.append(await one_chat(http, next(pool), prompt))

        before = {k: f() for k, f in cpu.items()}  # type: ignore[operator]
        t0 = time.perf_counter()
        await asyncio.gather(*(loop() for _ in range(concurrency)))
        level.wall = time.perf_counter() - t0
        level.cpu = {k: f() - before[k] for k, f in cpu.items()}  # type: ignore[operator]
    return level


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    k = (len(s) - 1) * p / 100
    f = int(k)
    c = min(f + 1, len(s) - 1)
    return s[f] + (s[c] - s[f]) * (k - f)
