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
    return {
        "seconds": total,
        "mb": mb,
        "conversations": conversations,
        "messages": messages,
        "p99": percentile(during, 0.99),
        "p99_before": percentile(before, 0.99),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=50)
    parser.add_argument("--baseline", type=float, default=5.0, help="seconds before the import")
    args = parser.parse_args()
    with infrastructure() as infra:
        database_url = create_migrated_database(infra.admin_dsn, prefix="sb_bench")
        stack = start_stack(infra.nats_url, database_url, Path(tempfile.mkdtemp(prefix="import-")))
        try:
            f = asyncio.run(measure(stack.base_url, args))
        finally:
            stack.stop()
    print(
        f"RESULT import_seconds={f['seconds']:.1f} import_mb={f['mb']:.1f} "
        f"conversations={f['conversations']} messages={f['messages']} "
        f"others_p99_ms={f['p99']:.1f} others_p99_before_ms={f['p99_before']:.1f}"
    )


if __name__ == "__main__":
    main()
