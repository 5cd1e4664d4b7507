"""The usage ledger and GET /api/usage (issue 17): every answer (completed, failed or
cancelled), generated title and summary counted per user, day, provider, model, project and
task from the usage its provider reported, grouped as asked, costed at the price an admin set or
the built-in one (null where none is known), the caller's own only, and rebuilt by replay."""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import User, register
from tests.support.chat_stack import ChatStack
from tests.support.fake_providers import Behaviour
from tests.support.provider_chat import chat, messages, new_thread, unique_model
from tests.support.sse_client import events
from tests.support.stack import executable
from threads.projections import default_projector
from threads.replay.runner import replay

TODAY = datetime.now(UTC).date().isoformat()
COUNTS = ("requests", "input_tokens", "output_tokens", "reasoning_tokens")


async def usage(user: User, **params: str) -> dict[str, Any]:
    r = await user.get("/api/usage", params=params)
    assert r.status_code == 200, r.text
    return dict(r.json())


def counts(row: dict[str, Any]) -> tuple[int, ...]:
    return tuple(row[k] for k in COUNTS)


async def echo_chat(user: User, content: str, **thread: Any) -> dict[str, Any]:
    """A chat on the echo provider, which reports usage: the answer's stored usage."""
    t = await new_thread(user, "echo", thread.pop("model", "echo"), **thread)
    evs = await chat(user, str(t["id"]), content)
    assert evs[-1].event == "message_end", evs[-1]
    return dict((await messages(user, str(t["id"])))[-1]["usage"])


async def test_a_chat_lands_in_the_ledger_grouped_and_totalled(
    user: User, other_user: User
) -> None:
    r = await user.post("/api/projects", json={"name": "Ledger"})
    assert r.status_code == 201, r.text
    project = r.json()["id"]
    first = await echo_chat(user, "one two three")
    second = await echo_chat(user, "four five", project_id=project)

    body = await usage(user, group_by="project,task,provider,model,day")
    rows = {row["project"]: row for row in body["rows"]}
    assert set(rows) == {None, project}
    for row, used in ((rows[None], first), (rows[project], second)):
        assert (row["day"], row["provider"], row["model"], row["task"]) == (
            TODAY,
            "echo",
            "echo",
            "chat",
        )
        assert counts(row) == (1, used["input_tokens"], used["output_tokens"], 0)
    total = (2, first["input_tokens"] + second["input_tokens"])
    assert (body["totals"]["requests"], body["totals"]["input_tokens"]) == total

    ungrouped = await usage(user)
    assert len(ungrouped["rows"]) == 1
    assert set(ungrouped["rows"][0]) == {*COUNTS, "cost_usd"}  # no group keys
    assert counts(ungrouped["rows"][0]) == counts(ungrouped["totals"])
    by_task = await usage(user, group_by="task")
    assert [(r["task"], r["requests"]) for r in by_task["rows"]] == [("chat", 2)]

    theirs = await usage(other_user)  # never another user's
    assert theirs["rows"] == [] and counts(theirs["totals"]) == (0, 0, 0, 0)
    assert (await usage(user, **{"from": "2000-01-01", "to": "2000-01-31"}))["totals"][
        "requests"
    ] == 0


async def test_moving_a_thread_keeps_its_usage_where_it_was(user: User) -> None:
    r = await user.post("/api/projects", json={"name": "Before"})
    project = r.json()["id"]
    t = await new_thread(user, "echo", "echo", project_id=project)
    assert (await chat(user, str(t["id"]), "hello there"))[-1].event == "message_end"
    r = await user.patch(f"/api/threads/{t['id']}", json={"project_id": None})
    assert r.status_code == 200, r.text
    rows = (await usage(user, group_by="project"))["rows"]
    assert [(row["project"], row["requests"]) for row in rows] == [(project, 1)]


def set_price(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "THREADS_DATABASE_URL": database_url, "THREADS_LOG_JSON": "false"}
    return subprocess.run(
        [executable("switchboard-threads"), "prices", "set", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_cost_is_null_without_a_price_and_recomputed_after_prices_set(
    user: User, database_url: str
) -> None:
    model = unique_model("echo-priced")
    used = await echo_chat(user, "a b c d e", model=model)
    before = await usage(user, group_by="model")
    assert before["rows"][0]["cost_usd"] is None and before["totals"]["cost_usd"] is None

    done = set_price(database_url, "echo", model, "--input", "2", "--output", "10")
    assert done.returncode == 0, done.stdout + done.stderr
    after = await usage(user, group_by="model")
    expected = (used["input_tokens"] * 2 + used["output_tokens"] * 10) / 1_000_000
    assert after["rows"][0]["cost_usd"] == pytest.approx(expected)
    assert after["totals"]["cost_usd"] == pytest.approx(expected)

    refused = set_price(database_url, "echo", model, "--input", "-1", "--output", "1")
    assert refused.returncode != 0  # a negative price changes nothing
    assert (await usage(user))["totals"]["cost_usd"] == pytest.approx(expected)


@pytest.mark.parametrize(
    "params",
    [
        {"group_by": "user"},
        {"group_by": "day,colour"},
        {"from": "2026-02-30"},
        {"to": "yesterday"},
        {"from": "2026-03-02", "to": "2026-03-01"},
    ],
)
async def test_bad_usage_requests_are_422(user: User, params: dict[str, str]) -> None:
    r = await user.get("/api/usage", params=params)
    assert r.status_code == 422, r.text
    assert "detail" in r.json()


async def test_replay_rebuilds_the_ledger(user: User, engine: AsyncEngine) -> None:
    await echo_chat(user, "replayed words here")
    before = await usage(user, group_by="day,provider,model,project,task")
    assert before["totals"]["requests"] >= 1
    assert (await replay(engine, default_projector(), check=True)).differences == []
    await replay(engine, default_projector())
    assert await usage(user, group_by="day,provider,model,project,task") == before


# -- against the fake wire-format providers: built-in prices, failures, cancels, titles --


@pytest_asyncio.fixture
async def me(provider_stack: ChatStack) -> AsyncIterator[User]:
    async with httpx.AsyncClient(base_url=provider_stack.stack.base_url, timeout=30) as client:
        yield await register(client)


async def titled(user: User, thread_id: str) -> None:
    for _ in range(100):
        r = await user.get(f"/api/threads/{thread_id}")
        if r.json()["title"] != "New Chat":
            return
        await asyncio.sleep(0.1)
    raise AssertionError("no title was generated")


async def test_built_in_price_and_title_usage(me: User, provider_stack: ChatStack) -> None:
    model = unique_model("claude-sonnet-4-5")  # the built-in claude-sonnet-4 price: 3 / 15
    answer = "Ledgers keep every count."
    provider_stack.fake.script(
        "anthropic", Behaviour(answer=answer), Behaviour(answer="Counting"), model=model
    )
    t = await new_thread(me, "anthropic", model)
    assert (await chat(me, str(t["id"]), "Count it"))[-1].event == "message_end"
    await titled(me, str(t["id"]))
    for _ in range(100):  # the title's usage is recorded with the title
        rows = {r["task"]: r for r in (await usage(me, group_by="task,model"))["rows"]}
        if "title" in rows:
            break
        await asyncio.sleep(0.1)
    chat_row, title_row = rows["chat"], rows["title"]
    used = (await messages(me, str(t["id"])))[-1]["usage"]
    assert counts(chat_row) == (1, used["input_tokens"], used["output_tokens"], 0)
    assert title_row["requests"] == 1 and title_row["output_tokens"] > 0
    for row in (chat_row, title_row):
        expected = (row["input_tokens"] * 3 + row["output_tokens"] * 15) / 1_000_000
        assert row["cost_usd"] == pytest.approx(expected)


async def test_failed_and_cancelled_answers_are_counted(
    me: User, provider_stack: ChatStack
) -> None:
    failing = unique_model("gpt-4o")
    provider_stack.fake.script(
        "openai", Behaviour(kind="status", status=400, message="no"), model=failing
    )
    t = await new_thread(me, "openai", failing)
    assert (await chat(me, str(t["id"]), "Fail please"))[-1].event == "error"

    slow = unique_model("gpt-4o")
    provider_stack.fake.script("openai", Behaviour(answer="slow " * 50, interval=0.2), model=slow)
    t2 = await new_thread(me, "openai", slow)
    url = f"/api/threads/{t2['id']}/chat"
    async with me.client.stream("POST", url, json={"content": "Hi"}, headers=me.headers) as resp:
        message_id, asked = None, False
        async for ev in events(resp):
            message_id = message_id or ev.data.get("message_id")
            if ev.event == "token" and message_id and not asked:
                r = await me.post(f"/api/threads/{t2['id']}/messages/{message_id}/cancel")
                assert r.status_code == 202, r.text
                asked = True
            if ev.event in ("message_end", "error", "cancelled"):
                assert ev.event == "cancelled"
                break
    for _ in range(50):
        rows = {r["model"]: r for r in (await usage(me, group_by="model,task"))["rows"]}
        if failing in rows and slow in rows:
            break
        await asyncio.sleep(0.1)
    assert rows[failing]["requests"] == 1 and rows[failing]["task"] == "chat"
    assert rows[slow]["requests"] == 1
