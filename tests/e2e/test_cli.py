"""The `switchboard` terminal client, run as a real process against the running stack: sign up
and in, threads, a streamed chat with `echo`, Ctrl-C (SIGINT) cancelling an answer, and the
thread's tree: /regenerate, /edit, /branches, /switch, /fork."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import tomllib
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.stack import Stack, executable

CLI = executable("switchboard")


class Cli:
    """Runs `switchboard` with its own config file, pointed at the stack."""

    def __init__(self, stack: Stack, config: Path) -> None:
        self.config = config
        self.env = {
            **os.environ,
            "SWITCHBOARD_URL": stack.base_url,
            "SWITCHBOARD_CONFIG": str(config),
            "COLUMNS": "200",
        }
        self.env.pop("SWITCHBOARD_TOKEN", None)

    async def run(self, *args: str, ok: bool = True) -> str:
        proc = await asyncio.create_subprocess_exec(
            CLI,
            *args,
            env=self.env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await asyncio.wait_for(proc.communicate(), 60)
        text = out.decode()
        assert (proc.returncode == 0) == ok, f"exit {proc.returncode}:\n{text}"
        return text

    def token(self) -> str:
        return str(tomllib.loads(self.config.read_text())["token"])


@pytest.fixture
def cli(stack: Stack, tmp_path: Path) -> Cli:
    return Cli(stack, tmp_path / "switchboard" / "config.toml")


async def signed_up(cli: Cli) -> httpx.AsyncClient:
    email = f"cli-{uuid.uuid4().hex[:10]}@example.com"
    out = await cli.run("register", "--email", email, "--password", "correct horse battery")
    assert "Registered" in out
    out = await cli.run("login", "--email", email, "--password", "correct horse battery")
    assert "Logged in" in out
    assert cli.config.stat().st_mode & 0o077 == 0  # the token file is private
    return httpx.AsyncClient(
        base_url=cli.env["SWITCHBOARD_URL"],
        headers={"Authorization": f"Bearer {cli.token()}"},
        timeout=30,
    )


async def test_login_threads_and_a_streamed_chat(cli: Cli) -> None:
    api = await signed_up(cli)
    out = await cli.run("new", "--provider", "echo", "--model", "echo", "--title", "From CLI")
    thread_id = out.strip().splitlines()[-1]
    uuid.UUID(thread_id)

    out = await cli.run("chat", thread_id, "-m", "hello from the terminal")
    assert "Echo: hello from the terminal" in out
    assert "stop" in out  # the end of the answer is shown

    listing = await cli.run("threads")
    assert "From CLI" in listing and thread_id in listing and "echo/echo" in listing
    stored = (await api.get(f"/api/threads/{thread_id}/messages")).json()["messages"]
    assert [(m["role"], m["content"], m["status"]) for m in stored] == [
        ("user", "hello from the terminal", "complete"),
        ("assistant", "Echo: hello from the terminal", "complete"),
    ]

    status = await cli.run("replay-status")
    assert "ready" in status and "From CLI" in status and " no" not in status
    await api.aclose()


async def test_providers_and_models(cli: Cli) -> None:
    await signed_up(cli)
    providers = await cli.run("providers")
    for name in ("anthropic", "openai", "echo", "ollama"):
        assert name in providers
    models = await cli.run("models")
    assert "echo-slow" in models


async def test_errors_are_one_line_not_a_traceback(cli: Cli, tmp_path: Path) -> None:
    out = await cli.run("threads", ok=False)
    assert "Not logged in" in out
    out = await cli.run(
        "login", "--email", "nobody@example.com", "--password", "wrong-pass", ok=False
    )
    assert "401" in out and "Traceback" not in out
    await signed_up(cli)
    out = await cli.run("new", "--provider", "nosuch", ok=False)
    assert "Invalid provider" in out and "Traceback" not in out


class Output:
    """A process's output read as it comes; `expect` finds text after the previous match."""

    def __init__(self, stream: asyncio.StreamReader) -> None:
        self.stream = stream
        self.text = ""
        self.mark = 0

    async def expect(self, needle: str) -> None:
        while (found := self.text.find(needle, self.mark)) < 0:
            try:
                chunk = await asyncio.wait_for(self.stream.read(256), 20)
            except TimeoutError:
                raise AssertionError(f"no {needle!r} in:\n{self.text}") from None
            assert chunk, f"output ended before {needle!r}:\n{self.text}"
            self.text += chunk.decode(errors="replace")
        self.mark = found + len(needle)


async def test_ctrl_c_cancels_the_answer_not_the_program(cli: Cli) -> None:
    api = await signed_up(cli)
    out = await cli.run("new", "--provider", "echo", "--model", "echo-slow")
    thread_id = out.strip().splitlines()[-1]
    words = " ".join(f"word{i}" for i in range(200))  # ~10 s of echo-slow
    proc = await asyncio.create_subprocess_exec(
        CLI,
        "chat",
        thread_id,
        env=cli.env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
        # started as a shell starts a background job, SIGINT ignored: the chat takes it back
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    assert proc.stdin is not None and proc.stdout is not None
    shown = Output(proc.stdout)
    try:
        await shown.expect("you>")
        proc.stdin.write(f"{words}\n".encode())
        await proc.stdin.drain()
        await shown.expect("word3")  # tokens arrive while it streams
        proc.send_signal(signal.SIGINT)
        await shown.expect("[cancelled]")
        await shown.expect("you>")  # back at the prompt: still running
        assert proc.returncode is None
        proc.send_signal(signal.SIGINT)
        await shown.expect("again to exit")
        proc.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(proc.wait(), 20) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert "word199" not in shown.text and "could not cancel" not in shown.text

    for _ in range(100):
        stored = (await api.get(f"/api/threads/{thread_id}/messages")).json()["messages"]
        if stored[-1]["status"] != "streaming":
            break
        await asyncio.sleep(0.1)
    assert [(m["role"], m["status"]) for m in stored] == [
        ("user", "complete"),
        ("assistant", "cancelled"),
    ]
    assert stored[-1]["content"].startswith("Echo: word0")
    assert "word199" not in stored[-1]["content"]
    await api.aclose()


async def test_regenerate_edit_branches_and_switch(cli: Cli) -> None:
    api = await signed_up(cli)
    out = await cli.run("new", "--provider", "echo", "--model", "echo", "--title", "Tree")
    thread_id = out.strip().splitlines()[-1]
    proc = await asyncio.create_subprocess_exec(
        CLI,
        "chat",
        thread_id,
        env=cli.env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert proc.stdin is not None and proc.stdout is not None
    shown = Output(proc.stdout)

    async def say(line: str, *expected: str) -> None:
        await shown.expect("you>")
        assert proc.stdin is not None
        proc.stdin.write(f"{line}\n".encode())
        await proc.stdin.drain()
        for text in expected:
            await shown.expect(text)

    async def thread() -> dict[str, Any]:
        return dict((await api.get(f"/api/threads/{thread_id}")).json())

    try:
        await say("first question", "Echo: first question", "stop")
        first_answer = (await thread())["active_leaf_id"]
        await say("/branches", "no branches yet")
        await say("/regenerate echo-slow", "Echo: first question", "stop")
        second_answer = (await thread())["active_leaf_id"]
        assert second_answer != first_answer
        await say(
            "/branches",
            "versions of message 2 (answer):",
            "  1  echo/echo  Echo: first question",
            "* 2  echo/echo-slow  Echo: first question",
        )
        await say("/switch 1", "on version 1 of 2", "ai> Echo: first question")
        assert (await thread())["active_leaf_id"] == first_answer
        await say("/switch 7", "no version 7: there are 2")

        await say("/edit second question", "Echo: second question", "stop")
        await say(
            "/branches",
            "versions of message 1 (question):",
            "  1  you  first question",
            "* 2  you  second question",
        )
        await say("/switch 1", "on version 1 of 2", "you> first question")
        await say("/fork", "forked into ")
        await shown.expect("  (switchboard chat")
        forked_id = shown.text[shown.text.rindex("forked into ") :].split()[2]
        await say("/exit")
        assert await asyncio.wait_for(proc.wait(), 20) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert "Traceback" not in shown.text

    # The first question again, with its newest answer below it; nothing was overwritten.
    path = (await thread())["messages"]
    assert [(m["role"], m["content"], m["model"]) for m in path] == [
        ("user", "first question", None),
        ("assistant", "Echo: first question", "echo-slow"),
    ]
    every = await api.get(f"/api/threads/{thread_id}/messages", params={"path": "all"})
    assert len(every.json()["messages"]) == 5

    forked = (await api.get(f"/api/threads/{forked_id}")).json()
    assert forked["forked_from"]["thread_id"] == thread_id
    assert [m["content"] for m in forked["messages"]] == [m["content"] for m in path]

    # Deleting the first question takes its two answers with it; replay-status counts that.
    assert (await api.delete(f"/api/messages/{path[0]['id']}")).status_code == 200
    assert (await thread())["message_count"] == 2
    status = await cli.run("replay-status")
    assert "Tree" in status and " no" not in status
    await api.aclose()


async def test_export_and_import(cli: Cli, tmp_path: Path) -> None:
    """Issue 18: `switchboard export` prints JSON or Markdown; `switchboard import` takes it."""
    client = await signed_up(cli)
    async with client:
        body = {"model_provider": "echo", "model": "echo", "title": "CLI export"}
        tid = (await client.post("/api/threads", json=body)).json()["id"]
        message = {"role": "user", "content": "hello from the CLI"}
        assert (await client.post(f"/api/threads/{tid}/messages", json=message)).status_code == 201
        markdown = await cli.run("export", tid, "--format", "markdown")
        assert markdown.startswith("# CLI export") and "hello from the CLI" in markdown
        exported = await cli.run("export", tid)
        assert json.loads(exported)["format"] == "switchboard.thread.v1"
        path = tmp_path / "thread.json"
        path.write_text(exported)
        out = await cli.run("import", str(path))
        new_id = out.split()[0]
        assert new_id != tid and "CLI export" in out
        listed = (await client.get(f"/api/threads/{new_id}/messages")).json()["messages"]
        assert [m["content"] for m in listed] == ["hello from the CLI"]
        bad = tmp_path / "bad.json"
        bad.write_text("[1]")
        out = await cli.run("import", str(bad), ok=False)
        assert "conversation #0" in out and "Traceback" not in out


async def test_search_prints_hits_and_pages_with_the_cursor(cli: Cli) -> None:
    api = await signed_up(cli)
    out = await cli.run("new", "--provider", "echo", "--model", "echo", "--title", "Dunes")
    thread_id = out.strip().splitlines()[-1]
    ids = []
    for text in ("sandstone [bold]layers[/bold]", "more sandstones", "a third sandstone"):
        r = await api.post(
            f"/api/threads/{thread_id}/messages", json={"role": "user", "content": text}
        )
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])

    out = await cli.run("search", "sandstone", "--limit", "2")
    assert out.count(thread_id) == 2 and "more: --cursor " in out
    cursor = out.split("more: --cursor ")[1].split()[0]
    out2 = await cli.run("search", "sandstone", "--limit", "2", "--cursor", cursor)
    assert out2.count(thread_id) == 1 and "more:" not in out2
    assert {i for i in ids if i in out + out2} == set(ids)
    assert "sandstone [bold]layers[/bold]" in out + out2  # shown as written, not as markup

    assert "Nothing found" in await cli.run("search", "glacier")
    assert "Error" in await cli.run("search", "x", "--cursor", "garbage", ok=False)
    await api.aclose()
