"""Long threads never fail for length (issue 16): context windows in GET /api/models, the
thread's `context_window` and `context_policy`, the oldest turns truncated or summarized
through the `summary` task route, and one retry with less history when the provider says the
context is too long. Through the session stack's gateway, threads service and chat worker,
with the real SDKs against the local wire-format fake providers."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import User
from tests.support.fake_providers import Behaviour, FakeProviders
from tests.support.sse_client import Event, read_all

KEY = "sk-long-threads-0123456789abcdef"
# A turn of filler: 240 bytes, about 80 tokens by the worker's estimate.
FILLER = "lorem ipsum dolor sit amet " * 9


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeProviders]:
    models = {
        "openai": ["gpt-4o-mini", "router-model"],
        "anthropic": ["claude-sonnet-4-5"],
        "google": ["gemini-fake"],
    }
    lengths = {"router-model": 65_536, "gemini-fake": 32_768}
    with FakeProviders("A short answer.", models=models, context_lengths=lengths) as server:
        yield server


async def configure(user: User, provider: str, base_url: str, key: str | None = KEY) -> None:
    body: dict[str, Any] = {"base_url": base_url}
    if key:
        body["api_key"] = key
    r = await user.put(f"/api/providers/{provider}/config", json=body)
    assert r.status_code == 200, r.text


async def thread(user: User, model: str, **fields: Any) -> dict[str, Any]:
    body = {"model_provider": "openai", "model": model, "thread_type": "assistant", **fields}
    r = await user.post("/api/threads", json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def fill(user: User, thread_id: str, turns: int) -> list[dict[str, Any]]:
    """`turns` stored questions and answers, oldest first."""
    posted = []
    for i in range(turns):
        for role in ("user", "assistant"):
            body = {"role": role, "content": f"{role} {i}: {FILLER}"}
            r = await user.post(f"/api/threads/{thread_id}/messages", json=body)
            assert r.status_code == 201, r.text
            posted.append(r.json())
    return posted


async def chat(user: User, thread_id: str, content: str) -> list[Event]:
    async with user.client.stream(
        "POST", f"/api/threads/{thread_id}/chat", json={"content": content}, headers=user.headers
    ) as response:
        assert response.status_code == 200, await response.aread()
        return await read_all(response)


async def answer(user: User, thread_id: str) -> dict[str, Any]:
    messages = (await user.get(f"/api/threads/{thread_id}/messages")).json()["messages"]
    return dict(messages[-1])


def model_name() -> str:
    return f"model-{uuid.uuid4().hex[:8]}"


async def test_models_list_their_context_windows(user: User, fake: FakeProviders) -> None:
    await configure(user, "openai", fake.openai_base_url)
    await configure(user, "openrouter", fake.openai_base_url)
    await configure(user, "ollama", fake.openai_base_url, key=None)
    await configure(user, "anthropic", fake.anthropic_base_url)
    await configure(user, "google", fake.google_base_url)
    for _ in range(120):  # a worker may still be starting (503), a listing slow on a busy
        r = await user.get("/api/models")  # machine (its error is kept 10 s)
        if r.status_code != 503 and not r.json()["errors"]:
            break
        await asyncio.sleep(1)
    assert r.status_code == 200, r.text
    assert r.json()["errors"] == []
    windows = {(m["provider"], m["id"]): m["context_window"] for m in r.json()["models"]}
    assert windows == {
        ("openai", "gpt-4o-mini"): 128_000,  # OpenAI lists none: the table's
        ("openai", "router-model"): 65_536,  # the listing says
        ("openrouter", "gpt-4o-mini"): 128_000,
        ("openrouter", "router-model"): 65_536,  # OpenRouter's context_length
        ("ollama", "gpt-4o-mini"): 131_072,  # Ollama's /api/show model_info
        ("ollama", "router-model"): 65_536,
        ("anthropic", "claude-sonnet-4-5"): 200_000,  # the table's
        ("google", "gemini-fake"): 32_768,  # Gemini's inputTokenLimit
        ("echo", "echo"): None,
        ("echo", "echo-slow"): None,
    }


async def test_settings_on_create_patch_and_in_the_view(user: User) -> None:
    created = await thread(user, "echo", context_window=8000, context_policy="summarize")
    assert (created["context_window"], created["context_policy"]) == (8000, "summarize")
    plain = await thread(user, "echo")
    assert (plain["context_window"], plain["context_policy"]) == (None, "truncate")
    url = f"/api/threads/{created['id']}"
    r = await user.patch(url, json={"context_window": None})
    assert (r.json()["context_window"], r.json()["context_policy"]) == (None, "summarize")
    r = await user.patch(url, json={"context_policy": "truncate", "context_window": 123})
    assert (r.json()["context_window"], r.json()["context_policy"]) == (123, "truncate")
    listed = (await user.get("/api/threads")).json()["threads"]
    mine = next(t for t in listed if t["id"] == created["id"])
    assert (mine["context_window"], mine["context_policy"]) == (123, "truncate")


@pytest.mark.parametrize(
    "fields",
    [
        {"context_policy": "forget"},
        {"context_policy": ""},
        {"context_window": 0},
        {"context_window": -5},
        {"context_window": 1.5},
        {"context_window": "8000"},
        {"context_window": True},
    ],
)
async def test_bad_settings_are_422_and_nothing_applies(user: User, fields: dict[str, Any]) -> None:
    r = await user.post("/api/threads", json={"model_provider": "echo", "title": "x", **fields})
    assert r.status_code == 422, r.text
    made = await thread(user, "echo", title="before")
    r = await user.patch(f"/api/threads/{made['id']}", json={"title": "after", **fields})
    assert r.status_code == 422, r.text
    kept = (await user.get(f"/api/threads/{made['id']}")).json()
    assert (kept["title"], kept["context_window"], kept["context_policy"]) == (
        "before",
        None,
        "truncate",
    )


async def test_truncate_sends_the_newest_whole_turns(user: User, fake: FakeProviders) -> None:
    await configure(user, "openai", fake.openai_base_url)
    model = model_name()
    made = await thread(user, model, context_window=1200)
    posted = await fill(user, made["id"], 20)
    done = await chat(user, made["id"], "The newest question?")
    assert done[-1].event == "message_end", done[-1].data

    (request,) = fake.requests_for("openai", model)
    sent = request.body["messages"]
    assert sent[0]["role"] == "system" and "general-purpose assistant" in sent[0]["content"]
    assert sent[-1] == {"role": "user", "content": "The newest question?"}
    kept = sent[1:-1]
    assert 2 <= len(kept) < len(posted) and len(kept) % 2 == 0  # whole turns
    assert kept[0]["role"] == "user"
    assert [m["content"] for m in kept] == [p["content"] for p in posted[-len(kept) :]]

    context = (await answer(user, made["id"]))["metadata"]["context"]
    assert context["omitted_messages"] == len(posted) - len(kept)
    assert context["summarized_through"] is None
    assert 0 < context["estimated_input_tokens"] <= 1200 - 600  # less the answer's reserve


async def test_a_thread_that_fits_is_sent_whole(user: User, fake: FakeProviders) -> None:
    await configure(user, "openai", fake.openai_base_url)
    model = model_name()
    made = await thread(user, model, context_window=100_000)
    posted = await fill(user, made["id"], 3)
    assert (await chat(user, made["id"], "Still there?"))[-1].event == "message_end"
    (request,) = fake.requests_for("openai", model)
    assert len(request.body["messages"]) == 1 + len(posted) + 1
    context = (await answer(user, made["id"]))["metadata"]["context"]
    assert context["omitted_messages"] == 0 and context["summarized_through"] is None


async def test_summarize_goes_through_the_summary_route_and_is_reused(
    user: User, fake: FakeProviders
) -> None:
    await configure(user, "openai", fake.openai_base_url)
    model, summarizer = model_name(), model_name()
    routes = {
        "use_separate_models": True,
        "routes": [{"task": "summary", "provider": "openai", "model": summarizer}],
    }
    r = await user.put("/api/task-routes", json=routes)
    assert r.status_code == 200, r.text
    made = await thread(user, model, context_window=1200, context_policy="summarize")
    posted = await fill(user, made["id"], 20)
    fake.script("openai", Behaviour(answer="The user asked about lorem ipsum."), model=summarizer)
    assert (await chat(user, made["id"], "First long question?"))[-1].event == "message_end"

    (summary_request,) = fake.requests_for("openai", summarizer)
    assert "You summarize conversations" in summary_request.body["messages"][0]["content"]
    assert "user 0:" in summary_request.texts()  # the oldest turn was folded
    (first,) = fake.requests_for("openai", model)
    system = first.body["messages"][0]["content"]
    assert "The user asked about lorem ipsum." in system
    kept = first.body["messages"][1:-1]
    assert "user 0:" not in first.texts()

    context = (await answer(user, made["id"]))["metadata"]["context"]
    through = posted[len(posted) - len(kept) - 1]["id"]  # the newest message folded
    assert context["summarized_through"] == through
    assert context["omitted_messages"] == len(posted) - len(kept)
    recorded = (await user.get(f"/api/threads/{made['id']}/events")).json()["events"]
    summarized = [e for e in recorded if e["type"] == "ThreadSummarized"]
    assert [e["data"]["through_message_id"] for e in summarized] == [through]
    assert summarized[0]["data"]["text"] == "The user asked about lorem ipsum."

    # The summary's usage is the ledger's task `summary`, under the summary route's model.
    assert (summarized[0]["data"]["provider"], summarized[0]["data"]["model"]) == (
        "openai",
        summarizer,
    )
    r = await user.get("/api/usage", params={"group_by": "task,provider,model"})
    assert r.status_code == 200, r.text
    (counted,) = [row for row in r.json()["rows"] if row["model"] == summarizer]
    assert (counted["task"], counted["provider"], counted["requests"]) == ("summary", "openai", 1)
    assert counted["input_tokens"] > 0 and counted["output_tokens"] > 0

    # The next turn reuses it: no second summary while the turns after it fit.
    assert (await chat(user, made["id"], "Second question?"))[-1].event == "message_end"
    assert len(fake.requests_for("openai", summarizer)) == 1
    second = fake.requests_for("openai", model)[-1]
    assert "The user asked about lorem ipsum." in second.body["messages"][0]["content"]
    assert (await answer(user, made["id"]))["metadata"]["context"]["summarized_through"] == through


async def test_context_length_error_retries_once_with_less(user: User, fake: FakeProviders) -> None:
    await configure(user, "openai", fake.openai_base_url)
    model = model_name()  # not in the table: no window known, everything is sent first
    made = await thread(user, model)
    posted = await fill(user, made["id"], 8)
    too_long = Behaviour(kind="status", status=400, message="context_length_exceeded")
    fake.script("openai", too_long, model=model)
    done = await chat(user, made["id"], "Does it fit now?")
    assert done[-1].event == "message_end", done[-1].data
    first, retry = fake.requests_for("openai", model)
    assert len(first.body["messages"]) == 1 + len(posted) + 1
    assert 2 < len(retry.body["messages"]) < len(first.body["messages"])
    assert retry.body["messages"][-1]["content"] == "Does it fit now?"
    stored = await answer(user, made["id"])
    assert stored["status"] == "complete" and stored["content"] == "A short answer."
    left = len(retry.body["messages"]) - 2
    assert stored["metadata"]["context"]["omitted_messages"] == len(posted) - left


async def test_a_second_context_length_error_fails_the_answer(
    user: User, fake: FakeProviders
) -> None:
    await configure(user, "openai", fake.openai_base_url)
    made = await thread(user, "context-too-long")  # the fake refuses every request
    await fill(user, made["id"], 4)
    before = len(fake.requests_for("openai", "context-too-long"))
    done = await chat(user, made["id"], "Too long again?")
    assert done[-1].event == "error" and done[-1].data["code"] == "context_too_long"
    assert len(fake.requests_for("openai", "context-too-long")) - before == 2
