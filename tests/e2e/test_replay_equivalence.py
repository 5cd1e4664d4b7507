"""Replay rebuilds exactly what the live projections built: a varied data set made through the
running stack's HTTP API (projects, moves, deletes, messages, chats that complete, fail and are
cancelled, a conversation tree with branches, regenerations, edits, a fork, a subtree delete and
an active-leaf switch, documents, provider config, task routes, project and thread
instructions set and cleared, an answer with generation options, context settings and a
summarized long thread, personal API keys made and deleted, a logout), then `replay --check`
finds no difference on the whole database, and a swap under the running stack changes nothing
a client sees.

The data set must produce every event type of `contracts.events`: a new event type without a
case here fails this test."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
from pathlib import Path
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts.events import EVENT_TYPES
from tests.conftest import User
from tests.support.sse_client import Event, events, read_all
from tests.support.stack import executable
from threads.domain import imports as imports_domain
from threads.projections import default_projector
from threads.replay.runner import replay
from threads.store.tables import events as events_table

CHATGPT = Path(__file__).resolve().parent.parent / "fixtures" / "chatgpt_conversations.json"


class DataSet:
    """Drives the API as one user and remembers every stream it touched."""

    def __init__(self, user: User) -> None:
        self.user = user
        self.streams = {f"user-{user.id}", f"providers-{user.id}"}

    async def call(self, method: str, url: str, status: int = 200, **kw: Any) -> Any:
        r = await getattr(self.user, method)(url, **kw)
        assert r.status_code == status, f"{method} {url}: {r.status_code} {r.text}"
        return r.json()

    async def project(self, name: str, **fields: Any) -> str:
        body = {"name": name, **fields}
        pid = (await self.call("post", "/api/projects", 201, json=body))["id"]
        self.streams.add(f"project-{pid}")
        return str(pid)

    async def thread(self, url: str = "/api/threads", **fields: Any) -> str:
        body = {"model_provider": "echo", "model": "echo", **fields}
        tid = (await self.call("post", url, 201, json=body))["id"]
        self.streams.add(f"thread-{tid}")
        return str(tid)

    async def message(self, tid: str, role: str, content: str, **extra: Any) -> str:
        body = {"role": role, "content": content, **extra}
        return str((await self.call("post", f"/api/threads/{tid}/messages", 201, json=body))["id"])

    async def document(self, scope_url: str, filename: str) -> str:
        body = {"filename": filename, "content": f"the text of {filename}"}
        did = (await self.call("post", f"{scope_url}/documents", 201, json=body))["id"]
        self.streams.add(f"document-{did}")
        return str(did)

    async def chat(self, tid: str, content: str) -> list[Event]:
        async with self.user.client.stream(
            "POST", f"/api/threads/{tid}/chat", json={"content": content}, headers=self.user.headers
        ) as response:
            assert response.status_code == 200, await response.aread()
            return await read_all(response)

    async def stream(self, url: str, body: dict[str, Any]) -> list[Event]:
        async with self.user.client.stream(
            "POST", url, json=body, headers=self.user.headers
        ) as response:
            assert response.status_code == 200, await response.aread()
            return await read_all(response)

    async def cancelled_chat(self, tid: str) -> None:
        words = " ".join(f"word{i}" for i in range(200))  # ~10 s of echo-slow
        seen: list[Event] = []
        async with self.user.client.stream(
            "POST", f"/api/threads/{tid}/chat", json={"content": words}, headers=self.user.headers
        ) as response:
            async for ev in events(response):
                seen.append(ev)
                if ev.event == "token" and sum(e.event == "token" for e in seen) == 2:
                    mid = seen[0].data["message_id"]
                    await self.call("post", f"/api/threads/{tid}/messages/{mid}/cancel", 202)
                if ev.event in ("message_end", "error", "cancelled"):
                    break
        assert seen[-1].event == "cancelled"

    async def titled(self, tid: str, timeout: float = 10.0) -> None:
        """Wait for the generated title (ThreadRenamed from the title task)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            if (await self.call("get", f"/api/threads/{tid}"))["title"] != "New Chat":
                return
            await asyncio.sleep(0.1)
        raise AssertionError("no title was generated")


async def build(d: DataSet) -> None:
    alpha, beta, doomed = await d.project("alpha"), await d.project("beta"), await d.project("x")
    await d.call("patch", f"/api/projects/{alpha}", json={"name": "alpha 2", "description": "d"})
    await d.call("patch", f"/api/projects/{beta}", json={"description": None})

    in_alpha = await d.thread(f"/api/projects/{alpha}/threads", title="in alpha")
    loose = await d.thread(title="loose")
    in_doomed = await d.thread(project_id=doomed, title="in doomed")
    mover = await d.thread(project_id=alpha, title="mover")
    gone = await d.thread(project_id=beta, title="to delete")

    # messages, stored as given, with JSON objects and without
    await d.message(in_alpha, "user", "hello ✓", artifact_data={"k": [1, 2.5, None]})
    deleted = await d.message(in_alpha, "assistant", "soon gone", metadata={"n": 2**62, "x": 1e-7})
    await d.message(in_doomed, "user", "in a project that will go")
    await d.message(gone, "user", "goes with its thread")
    await d.call("delete", f"/api/messages/{deleted}")

    # renames and moves: between projects, out of one, into one
    await d.call("patch", f"/api/threads/{loose}", json={"title": "loose, renamed"})
    await d.call("patch", f"/api/threads/{mover}", json={"project_id": beta})
    await d.call("patch", f"/api/threads/{mover}", json={"project_id": None})
    await d.call("patch", f"/api/threads/{loose}", json={"project_id": alpha, "title": "both"})
    await d.call("patch", f"/api/projects/{beta}", json={"name": "beta 2"})

    # documents in both scopes; one deleted, others going with their project or thread
    await d.document(f"/api/projects/{alpha}", "kept.txt")
    await d.document(f"/api/threads/{in_alpha}", "thread.txt")
    await d.document(f"/api/projects/{doomed}", "with project.txt")
    await d.document(f"/api/threads/{gone}", "with thread.txt")
    removed = await d.document(f"/api/projects/{beta}", "removed.txt")
    await d.call("delete", f"/api/documents/{removed}")

    # instructions: given on create, changed, cleared; an answer with generation options
    guided = await d.project("guided", instructions="Answer as a project manager.")
    await d.call("patch", f"/api/projects/{alpha}", json={"instructions": "Cite sources."})
    await d.call("patch", f"/api/projects/{guided}", json={"instructions": None})
    instructed = await d.thread(project_id=guided, title="instructed", instructions="Be terse.")
    await d.call("patch", f"/api/threads/{instructed}", json={"instructions": "Be very terse."})
    await d.call("patch", f"/api/threads/{in_alpha}", json={"instructions": "In French."})
    await d.call("patch", f"/api/threads/{in_alpha}", json={"instructions": None})
    options = {"temperature": 0.3, "top_p": 0.9, "max_tokens": 64, "stop": ["END"]}
    optioned = await d.stream(
        f"/api/threads/{instructed}/chat", {"content": "with options", "options": options}
    )
    assert optioned[-1].event == "message_end"

    # chats: complete (with a generated title), in a project, failed, cancelled
    fresh = await d.thread()
    assert (await d.chat(fresh, "Planning the quarterly roadmap review"))[-1].event == "message_end"
    await d.titled(fresh)
    assert (await d.chat(in_alpha, "a second question"))[-1].event == "message_end"
    keyless = await d.thread(model_provider="anthropic", model="claude-x")
    failed = await d.chat(keyless, "anyone there?")
    assert failed[-1].data["code"] == "provider_not_configured"
    await d.cancelled_chat(await d.thread(model="echo-slow", title="slow"))
    await d.chat(gone, "an answer that goes with its thread")

    # the conversation tree: a regenerated answer (another model), an edited question, a
    # branch from an earlier message, a switch back, a fork, a subtree delete
    tree = await d.thread(title="tree")
    first = await d.chat(tree, "first question")
    q1, a1 = first[0].data["user_message_id"], first[0].data["message_id"]
    second = await d.chat(tree, "second question")
    a2 = second[0].data["message_id"]
    base = f"/api/threads/{tree}/messages"
    regen = await d.stream(f"{base}/{a2}/regenerate", {"model": "echo-slow"})
    assert regen[-1].event == "message_end"
    edited = await d.stream(f"{base}/{q1}/edit", {"content": "first question, again"})
    assert edited[-1].event == "message_end"
    branch = await d.call(
        "post",
        f"/api/threads/{tree}/messages",
        201,
        json={"role": "user", "content": "aside", "parent_id": a1},
    )
    await d.call("put", f"/api/threads/{tree}/active-leaf", json={"message_id": a2})
    fork = await d.call("post", f"/api/threads/{tree}/fork", 201, json={"message_id": a2})
    d.streams.add(f"thread-{fork['id']}")
    await d.call("delete", f"/api/messages/{branch['id']}")
    await d.call("delete", f"/api/messages/{a1}")  # with everything below it

    # share links (one revoked, one going with its thread), imports: a ChatGPT file with a
    # branch and an empty conversation, imported twice; a thread export with its document
    await share_and_import(d, tree, gone, in_alpha)

    # context settings set and changed; a summarized long thread, its summary reused next turn
    long = await d.thread(title="long", context_window=600, context_policy="summarize")
    await d.call("patch", f"/api/threads/{long}", json={"context_window": 700})
    for i in range(8):
        await d.message(long, "user", f"question {i}: " + "words " * 40)
        await d.message(long, "assistant", f"answer {i}: " + "words " * 40)
    assert (await d.chat(long, "and now?"))[-1].event == "message_end"
    assert (await d.chat(long, "and then?"))[-1].event == "message_end"
    history = (await d.call("get", f"/api/threads/{long}/messages"))["messages"]
    assert history[-1]["metadata"]["context"]["summarized_through"] is not None

    # provider settings and task routes; removing a provider removes routes through it
    key = {"api_key": "sk-test-0123456789abcdef", "base_url": "http://127.0.0.1:9/v1"}
    await d.call("put", "/api/providers/openai/config", json=key)
    await d.call("put", "/api/providers/openai/config", json={"enabled": False})
    await d.call("put", "/api/providers/google/config", json={"api_key": "g-0123456789abc"})
    routes = {
        "use_separate_models": True,
        "routes": [
            {"task": "chat", "provider": "openai", "model": "gpt-4o-mini"},
            {"task": "title", "provider": "echo", "model": "echo"},
        ],
    }
    await d.call("put", "/api/task-routes", json=routes)
    await d.call("delete", "/api/providers/openai")

    await keys_and_logout(d)

    # deletes with cascades
    await d.call("delete", f"/api/threads/{gone}")
    await d.call("delete", f"/api/projects/{doomed}")


async def share_and_import(d: DataSet, tree: str, gone: str, in_alpha: str) -> None:
    link = await d.call("post", f"/api/threads/{tree}/share", 201)
    assert (await d.user.delete(f"/api/shares/{link['share_id']}")).status_code == 204
    await d.call("post", f"/api/threads/{tree}/share", 201)
    await d.call("post", f"/api/threads/{gone}/share", 201)
    conversations = json.loads(CHATGPT.read_text())
    for _ in range(2):
        result = await d.call("post", "/api/imports", 201, json=conversations)
        d.streams.add(f"import-{result['id']}")
    export = await d.call("get", f"/api/threads/{in_alpha}/export")
    result = await d.call("post", "/api/imports", 201, json=export)
    d.streams.add(f"import-{result['id']}")
    user_id = UUID(d.user.id)
    d.streams.add(imports_domain.source_stream(user_id, "switchboard", in_alpha))
    d.streams.add(imports_domain.source_stream(user_id, "chatgpt", "conv-ice-1"))


async def keys_and_logout(d: DataSet) -> None:
    """API keys (one expiring, one deleted) and a second login logged out (api_keys and
    revoked_tokens, their expiries carried in the events)."""
    for body in ({"name": "kept"}, {"name": "dated", "expires_at": "2099-06-30T12:30:00+02:00"}):
        made = await d.call("post", "/api/keys", 201, json=body)
        d.streams.add(f"apikey-{made['id']}")
    assert (await d.user.delete(f"/api/keys/{made['id']}")).status_code == 204
    login = await d.call(
        "post", "/api/auth/login", json={"email": d.user.email, "password": d.user.password}
    )
    token = login["access_token"]
    logout = await d.user.client.post(
        "/api/auth/logout", headers={"Authorization": f"Bearer {token}"}
    )
    assert logout.status_code == 204, logout.text
    claims = token.split(".")[1]
    jti = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))["jti"]
    d.streams.add(f"session-{jti}")


async def roles_and_quotas(d: DataSet, other: User, database_url: str) -> None:
    """The data set's user made an admin through the CLI (UserRoleSet), then changing another
    user: a quota set and cleared, disabled and enabled, made admin and user again; and a
    model's price set through the CLI (ModelPriceSet, stream `prices`)."""
    env = {**os.environ, "THREADS_DATABASE_URL": database_url, "THREADS_LOG_JSON": "false"}
    price = ["prices", "set", "echo", "echo-replayed", "--input", "1.5", "--output", "3"]
    for args in (["admin", "grant", d.user.email], price):
        cli = [executable("switchboard-threads"), *args]
        done = subprocess.run(cli, env=env, capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
    d.streams.add("prices")
    url = f"/api/admin/users/{other.id}"
    for change in (
        {"quota": {"tokens_per_day": 1000, "tokens_per_month": 20000}},
        {"quota": {"tokens_per_day": None}},
        {"disabled": True},
        {"disabled": False, "role": "admin"},
        {"role": "user"},
    ):
        await d.call("patch", url, json=change)
    d.streams.add(f"user-{other.id}")


async def produced_types(engine: AsyncEngine, streams: set[str]) -> set[str]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(events_table.c.event_type)
            .where(events_table.c.stream_id.in_(sorted(streams)))
            .distinct()
        )
        return {row.event_type for row in rows}


async def snapshot(user: User) -> dict[str, Any]:
    """What a client sees of its data, to compare across a swap."""
    threads = (await user.get("/api/threads?page_size=50")).json()
    full = [(await user.get(f"/api/threads/{t['id']}")).json() for t in threads["threads"]]
    return {
        "threads": threads,
        "full": full,
        "projects": (await user.get("/api/projects")).json(),
        "providers": (await user.get("/api/providers")).json(),
        "routes": (await user.get("/api/task-routes")).json(),
    }


async def test_rebuilt_read_models_equal_the_live_ones(
    user: User, other_user: User, engine: AsyncEngine, database_url: str
) -> None:
    data = DataSet(user)
    await build(data)
    other = DataSet(other_user)
    await other.message(await other.thread(title="someone else's"), "user", "hi")
    await roles_and_quotas(data, other_user, database_url)

    missing = set(EVENT_TYPES) - await produced_types(engine, data.streams)
    assert not missing, f"the data set never produces {sorted(missing)}: add a case"

    report = await replay(engine, default_projector(), check=True)
    assert report.differences == [], "\n".join(map(str, report.differences))
    assert report.events > 0 and not report.swapped

    # Swapped in under the running stack: clients see the same, writes go on.
    before = await snapshot(user)
    swapped = await replay(engine, default_projector())
    assert swapped.swapped
    assert await snapshot(user) == before
    tid = await data.thread(title="after the swap")
    await data.message(tid, "user", "still writing")
    assert (await replay(engine, default_projector(), check=True)).differences == []


def test_the_cli_checks_and_exits_zero(database_url: str) -> None:
    """`make replay -- --check` runs this command."""
    env = {**os.environ, "THREADS_DATABASE_URL": database_url, "THREADS_LOG_JSON": "false"}
    done = subprocess.run(
        [executable("switchboard-threads"), "replay", "--check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "identical" in done.stdout
    assert "events/s" in done.stdout
