"""Benchmark: importing a 50 MB ChatGPT export (a few thousand conversations) while another
user keeps using the API.

Starts its own Postgres and NATS (like the tests), a fresh migrated database, the threads
service and gateway as processes. Generates a ChatGPT-shaped conversations.json (`mapping`
trees with a hidden system root, user and assistant turns, a regenerated answer now and then,
a tool call and an image part in some) of `--megabytes`, POSTs it to /api/imports and polls
GET /api/imports/{id} until every conversation is handled. Meanwhile a second user lists its
threads and creates one, over and over: their latency before and during the import says
whether the import holds the threads service's queue.

Ends with one line: RESULT import_seconds=<total> import_mb=<size> conversations=<n>
messages=<n> others_p99_ms=<during> others_p99_before_ms=<before>

Run: `uv run python benchmarks/bench_import.py [--megabytes 50]`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import orjson  # noqa: E402
from tests.support.database import create_migrated_database  # noqa: E402
from tests.support.servers import infrastructure  # noqa: E402

from benchmarks.bench_list import percentile, start_stack  # noqa: E402
from benchmarks.report import write_section  # noqa: E402
from gateway.config import Settings  # noqa: E402

WORDS = ("glacier", "river", "model", "answer", "tree", "branch", "question", "token", "stream")


def conversation(rng: random.Random, n: int, turns: int) -> tuple[dict[str, Any], int]:
    """One conversation and how many of its nodes are user or assistant text."""
    t0 = 1_700_000_000 + n * 3600
    mapping: dict[str, Any] = {}

    def node(nid: str, parent: str | None, message: dict[str, Any] | None) -> None:
        mapping[nid] = {"id": nid, "parent": parent, "children": [], "message": message}
        if parent:
            mapping[parent]["children"].append(nid)

    def text(role: str, k: int, at: float, parts: list[Any] | None = None) -> dict[str, Any]:
        body = " ".join(rng.choices(WORDS, k=k))
        return {
            "author": {"role": role},
            "create_time": at,
            "content": {
                "content_type": "multimodal_text" if parts else "text",
                "parts": [*(parts or []), body],
            },
            "metadata": {"model_slug": "gpt-4o"} if role == "assistant" else {},
            "recipient": "all",
        }

    node("root", None, None)
    hidden = {"is_visually_hidden_from_conversation": True}
    node(
        "sys",
        "root",
        {
            "author": {"role": "system"},
            "content": {"content_type": "text", "parts": [""]},
            "metadata": hidden,
            "recipient": "all",
        },
    )
    parent, kept = "sys", 0
    for t in range(turns):
        at = t0 + t * 60
        image = [{"content_type": "image_asset_pointer", "asset_pointer": "file-service://x"}]
        q = f"q{t}"
        node(q, parent, text("user", 40, at, image if t == 0 and n % 5 == 0 else None))
        if n % 7 == 0 and t == turns - 1:  # a tool call, answered below the tool's node
            node(
                f"call{t}",
                q,
                {
                    "author": {"role": "assistant"},
                    "recipient": "browser",
                    "content": {"content_type": "code", "text": "search()"},
                },
            )
            node(
                f"tool{t}",
                f"call{t}",
                {"author": {"role": "tool"}, "content": {"content_type": "text", "parts": ["r"]}},
            )
            above = f"tool{t}"
        else:
            above = q
        node(f"a{t}", above, text("assistant", 160, at + 5))
        kept += 2
        if t % 4 == 1:  # a regenerated answer beside the first
            node(f"b{t}", q, text("assistant", 120, at + 30))
            kept += 1
        parent = f"a{t}"
    conv = {
        "id": f"bench-{n}",
        "conversation_id": f"bench-{n}",
        "title": f"Bench chat {n}",
        "create_time": t0,
        "current_node": parent,
        "mapping": mapping,
    }
    return conv, kept


def export_file(megabytes: float) -> tuple[bytes, int, int]:
    rng = random.Random(18)
    convs: list[dict[str, Any]] = []
    size = messages = 0
    while size < megabytes * 1_000_000:
        conv, kept = conversation(rng, len(convs), turns=rng.randint(4, 10))
        convs.append(conv)
        messages += kept
        size += len(orjson.dumps(conv)) + 1
    return orjson.dumps(convs), len(convs), messages


async def register(client: httpx.AsyncClient, name: str) -> dict[str, str]:
    email = f"{name}-{uuid.uuid4().hex[:8]}@example.com"
    r = await client.post("/api/auth/register", json={"email": email, "password": "correct horse"})
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def others(
    client: httpx.AsyncClient, headers: dict[str, str], stop: asyncio.Event
) -> list[float]:
    """Another user's requests (a list, a new thread) one after the other until `stop`."""
    samples: list[float] = []
    n = 0
    while not stop.is_set():
        start = time.perf_counter()
        if n % 2:
            r = await client.get("/api/threads", headers=headers)
        else:
            r = await client.post("/api/threads", json={"model_provider": "echo"}, headers=headers)
        assert r.status_code in (200, 201), r.text
        samples.append((time.perf_counter() - start) * 1000)
        n += 1
    return samples


async def measure(base_url: str, args: argparse.Namespace) -> dict[str, float]:
    raw, conversations, messages = export_file(args.megabytes)
    mb = len(raw) / 1_000_000
    print(f"file: {mb:.1f} MB, {conversations} conversations, {messages} messages to import")
    async with httpx.AsyncClient(base_url=base_url, timeout=600) as client:
        importer, other = await register(client, "importer"), await register(client, "other")
        stop = asyncio.Event()
        before_task = asyncio.create_task(others(client, other, stop))
        await asyncio.sleep(args.baseline)
        stop.set()
        before = await before_task
        stop = asyncio.Event()
        during_task = asyncio.create_task(others(client, other, stop))
        start = time.perf_counter()
        files = {"file": ("conversations.json", raw, "application/json")}
        r = await client.post("/api/imports", files=files, headers=importer)
        accepted = time.perf_counter() - start
        assert r.status_code in (201, 202), r.text[:500]
        job = r.json()
        while job.get("status", "done") != "done":
            await asyncio.sleep(0.5)
            job = (await client.get(f"/api/imports/{job['id']}", headers=importer)).json()
        total = time.perf_counter() - start
        stop.set()
        during = await during_task
        assert len(job["threads"]) + len(job["skipped"]) == conversations
        listed = (await client.get("/api/threads", headers=importer)).json()["total"]
        assert listed == conversations, listed
    print(f"  answered {r.status_code} after {accepted:.1f} s; all handled after {total:.1f} s")
    print(
        f"  {conversations / total:.0f} conversations/s, {messages / total:.0f} messages/s, "
        f"{mb / total:.2f} MB/s"
    )
    for name, s in (("before", before), ("during", during)):
        print(
            f"  another user's requests {name}: n={len(s)} p50 {percentile(s, 0.5):.1f} ms "
            f"p99 {percentile(s, 0.99):.1f} ms max {max(s):.1f} ms"
        )
    figures: dict[str, float] = {
        "accepted": accepted,
        "seconds": total,
        "mb": mb,
        "conversations": conversations,
        "messages": messages,
    }
    for name, s in (("before", before), ("during", during)):
        figures |= {
            f"{name}_n": len(s),
            f"{name}_p50": percentile(s, 0.5),
            f"{name}_p99": percentile(s, 0.99),
            f"{name}_max": max(s),
        }
    return figures


def write_figures(f: dict[str, float], load: tuple[float, float], batch_bytes: int) -> None:
    def others(name: str) -> str:
        return (
            f"{f[name + '_p50']:.1f} / {f[name + '_p99']:.1f} / {f[name + '_max']:.1f} ms "
            f"({f[name + '_n']:,.0f} requests)"
        )

    total = f["seconds"]
    write_section(
        "Import (`benchmarks/bench_import.py`, `make bench-import`)",
        [
            f"A generated ChatGPT `conversations.json` of {f['mb']:.1f} MB: "
            f"{f['conversations']:,.0f} conversations, {f['messages']:,.0f} user and assistant "
            "messages to import (a hidden system root in each, 4 to 10 turns, a regenerated "
            "answer every fourth turn, an image part in every fifth conversation and a tool "
            "call in every seventh, left out as the import leaves them out). Posted as a "
            "multipart file to `POST /api/imports` through gateway, NATS and one threads "
            f"service (batches of `GATEWAY_IMPORT_BATCH_BYTES`, {batch_bytes // 1024} KiB, one "
            "transaction each), then `GET /api/imports/{id}` every 0.5 s until `done`. "
            "Meanwhile another user lists its threads and creates one, over and over, one "
            "request at a time (write rate limit off: it is measured, not limited).",
            "",
            "| | figure |",
            "| --- | --- |",
            f"| `202` (whole file read and checked, first batch stored) | {f['accepted']:.1f} s |",
            f"| every conversation handled | {total:.1f} s ({f['conversations'] / total:.0f} "
            f"conversations/s, {f['messages'] / total:.0f} messages/s, "
            f"{f['mb'] / total:.2f} MB/s) |",
            f"| the other user before the import: p50 / p99 / max | {others('before')} |",
            f"| the other user during the import: p50 / p99 / max | {others('during')} |",
            "",
            "Every request of the other user was answered. A batch holds one of the threads "
            "service's request slots for its own transaction, and the next batch is sent only "
            "when it is done, so the other user's requests go in between; what slows them is "
            "the two CPUs shared with the gateway parsing the file, the threads service and "
            "Postgres writing the imported events and read models. Load average "
            f"{load[0]:.1f} when the run began, {load[1]:.1f} when it ended (the machine is "
            "shared: figures move with it).",
            "",
            f"`RESULT import_seconds={total:.1f} import_mb={f['mb']:.1f} "
            f"conversations={f['conversations']:.0f} messages={f['messages']:.0f} "
            f"others_p99_ms={f['during_p99']:.1f} others_p99_before_ms={f['before_p99']:.1f}`",
        ],
        key="bench-import",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=50)
    parser.add_argument("--baseline", type=float, default=5.0, help="seconds before the import")
    args = parser.parse_args()
    load_start = os.getloadavg()
    with infrastructure() as infra:
        database_url = create_migrated_database(infra.admin_dsn, prefix="sb_bench")
        logs = Path(tempfile.mkdtemp(prefix="import-"))
        # the other user writes as fast as it is answered: measured, not rate limited
        stack = start_stack(
            infra.nats_url, database_url, logs, {"GATEWAY_RATE_LIMIT_WRITES_PER_MINUTE": "0"}
        )
        try:
            f = asyncio.run(measure(stack.base_url, args))
        finally:
            stack.stop()
    write_figures(f, (load_start[0], os.getloadavg()[0]), Settings().import_batch_bytes)
    print(
        f"RESULT import_seconds={f['seconds']:.1f} import_mb={f['mb']:.1f} "
        f"conversations={f['conversations']:.0f} messages={f['messages']:.0f} "
        f"others_p99_ms={f['during_p99']:.1f} others_p99_before_ms={f['before_p99']:.1f}"
    )


if __name__ == "__main__":
    main()
