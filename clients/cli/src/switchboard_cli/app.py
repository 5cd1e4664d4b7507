"""The `switchboard` commands. Each one is a few calls to the public HTTP API."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from switchboard_cli.api import Api, ApiError
from switchboard_cli.chat import ChatSession
from switchboard_cli.config import Profile
from switchboard_cli.search import print_hits
from switchboard_cli.status import replay_status

app = typer.Typer(
    help="Switchboard in the terminal: sign in, list threads, chat with streaming answers.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console(highlight=False)
err = Console(stderr=True, highlight=False)


@contextmanager
def failing_cleanly() -> Iterator[None]:
    """An API error is a red line and exit code 1, never a traceback."""
    try:
        yield
    except ApiError as exc:
        hint = "  (run `switchboard login`)" if exc.status == 401 else ""
        err.print(f"[red]Error:[/] {exc}{hint}", markup=True)
        raise typer.Exit(1) from None


def api(*, auth: bool = True) -> Api:
    profile = Profile()
    if auth and not profile.token:
        err.print("[red]Not logged in:[/] run `switchboard login` (or set SWITCHBOARD_TOKEN)")
        raise typer.Exit(1)
    return Api(profile.url, profile.token if auth else None)


def table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    t = Table(title=title, title_justify="left")
    for name in columns:
        t.add_column(name, overflow="fold")
    for row in rows:
        t.add_row(*["" if v is None else str(v) for v in row])
    console.print(t)


Email = Annotated[str, typer.Option(prompt=True, help="account email")]
Password = Annotated[str, typer.Option(prompt=True, hide_input=True, help="account password")]


@app.command()
def login(email: Email, password: Password) -> None:
    """Sign in; the token is kept in the config file."""
    profile = Profile()
    with failing_cleanly():
        data = Api(profile.url).post("/api/auth/login", json={"email": email, "password": password})
    profile.save(token=data["access_token"], url=profile.url, email=email)
    console.print(f"Logged in to {profile.url} as {email} (token saved to {profile.path})")


@app.command()
def register(
    email: Email,
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
    name: Annotated[str | None, typer.Option(help="display name")] = None,
) -> None:
    """Create an account and sign in with it."""
    profile = Profile()
    body = {"email": email, "password": password, "display_name": name}
    with failing_cleanly():
        data = Api(profile.url).post("/api/auth/register", json=body)
    profile.save(token=data["access_token"], url=profile.url, email=email)
    console.print(f"Registered and logged in to {profile.url} as {email}")


@app.command()
def logout() -> None:
    """Forget the saved token."""
    profile = Profile()
    profile.save(token=None)
    console.print("Logged out")


@app.command()
def threads(
    limit: Annotated[int, typer.Option(min=1, max=50, help="how many")] = 25,
    project: Annotated[str | None, typer.Option(help="only this project's threads")] = None,
    search: Annotated[str | None, typer.Option("--search", "-q", help="title search")] = None,
) -> None:
    """Your threads, newest activity first."""
    params: dict[str, Any] = {"limit": limit}
    if project:
        params["project_id"] = project
    if search:
        params["q"] = search
    with failing_cleanly():
        page = api().get("/api/threads", params=params)
    rows = [
        [
            t["id"],
            t["title"],
            t["project_name"] or "—",
            f"{t['provider']}/{t['model']}",
            t["message_count"],
            t["last_activity_at"][:19].replace("T", " "),
        ]
        for t in page["threads"]
    ]
    table(
        f"Threads ({page['total']})",
        ["id", "title", "project", "model", "messages", "last activity (UTC)"],
        rows,
    )


@app.command()
def search(
    query: Annotated[str, typer.Argument(help='words, "a phrase", or, -word')],
    limit: Annotated[int, typer.Option(min=1, max=100, help="how many")] = 20,
    project: Annotated[str | None, typer.Option(help="only this project's threads")] = None,
    cursor: Annotated[str | None, typer.Option(help="the next page, as printed")] = None,
) -> None:
    """Search your messages (every branch) and thread titles, best match first; prints the
    thread id (and message id) of each hit."""
    params: dict[str, Any] = {"q": query, "limit": limit}
    if project:
        params["project_id"] = project
    if cursor:
        params["cursor"] = cursor
    with failing_cleanly():
        page = api().get("/api/search", params=params)
    print_hits(console, page)


@app.command()
def new(
    provider: Annotated[str | None, typer.Option(help="e.g. echo, openai, anthropic")] = None,
    model: Annotated[
        str | None, typer.Option(help="default: your chat route or the provider's")
    ] = None,
    title: Annotated[str | None, typer.Option()] = None,
    project: Annotated[str | None, typer.Option(help="project id")] = None,
) -> None:
    """Create a thread bound to a provider and model; prints its id."""
    body = {"model_provider": provider, "model": model, "title": title, "project_id": project}
    with failing_cleanly():
        thread = api().post("/api/threads", json={k: v for k, v in body.items() if v})
    err.print(f"Created [bold]{thread['title']}[/] ({thread['provider']}/{thread['model']})")
    console.print(thread["id"], markup=False)


@app.command()
def export(
    thread: Annotated[str, typer.Argument(help="thread id")],
    format: Annotated[
        str, typer.Option(help="json (every branch, re-importable) or markdown")
    ] = "json",
) -> None:
    """Print a thread's export: JSON to import again, or its active path as Markdown."""
    with failing_cleanly():
        text = api().text(f"/api/threads/{thread}/export", params={"format": format})
    console.out(text, highlight=False)


@app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(help="a thread export or ChatGPT's conversations.json")],
    provider: Annotated[str | None, typer.Option(help="bind the threads to this provider")] = None,
    model: Annotated[str | None, typer.Option()] = None,
    project: Annotated[str | None, typer.Option(help="project id")] = None,
) -> None:
    """Import conversations; prints each new thread's id and title, waiting for large files."""
    options = {"model_provider": provider, "model": model, "project_id": project}
    data = {k: v for k, v in options.items() if v}
    with failing_cleanly():
        client = api()
        with file.open("rb") as f:
            result = client.post("/api/imports", files={"file": (file.name, f)}, data=data)
        while result.get("status", "done") != "done":
            err.print(f"imported {result['handled']} of {result['total']} conversations...")
            time.sleep(1)
            result = client.get(f"/api/imports/{result['id']}")
    for t in result["threads"]:
        console.print(f"{t['id']}  {t['title']}", markup=False)
    for s in result["skipped"]:
        err.print(f"skipped {s['source_id']}: {s['reason']}", markup=False)


@app.command()
def chat(
    thread: Annotated[str, typer.Argument(help="thread id")],
    message: Annotated[
        str | None, typer.Option("--message", "-m", help="send this one message, then exit")
    ] = None,
) -> None:
    """Chat in a thread: answers stream as they are written; Ctrl-C stops an answer; /regenerate,
    /edit TEXT, /branches, /switch N and /fork work on its versions (/help)."""
    # Ctrl-C is how an answer is stopped, so the chat takes it even when it was started with
    # SIGINT ignored (as a shell starts a background job, and so every process it starts).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    with failing_cleanly():
        session = ChatSession(api(), console, thread)
        if message is not None:
            outcome = session.send(message)
            raise typer.Exit(0 if outcome in ("message_end", "cancelled") else 1)
        session.show_header()
        try:
            session.loop()
        except KeyboardInterrupt:  # landed between two prompts, outside any handler: leave
            console.print()


@app.command()
def providers() -> None:
    """Every provider: configured or not, key hint, base URL, default model."""
    with failing_cleanly():
        data = api().get("/api/providers")
    rows = [
        [
            p["provider"],
            p["display_name"],
            "yes" if p["configured"] else "no",
            "yes" if p["enabled"] else "no",
            p["key_hint"] and f"…{p['key_hint']}",
            p["base_url"],
            p["default_model"],
        ]
        for p in data["providers"]
    ]
    table(
        "Providers",
        ["provider", "name", "configured", "enabled", "key", "base URL", "default model"],
        rows,
    )


@app.command()
def models() -> None:
    """The models of every usable provider, and the providers that failed to answer."""
    with failing_cleanly():
        data = api().get("/api/models")
    table(
        "Models",
        ["provider", "model", "name"],
        [[m["provider"], m["id"], m["display_name"]] for m in data["models"]],
    )
    for e in data["errors"]:
        err.print(f"[yellow]{e['provider']}:[/] {e['detail']}", markup=True)


@app.command("replay-status")
def replay_status_command(
    limit: Annotated[int, typer.Option(min=1, max=50, help="threads to check")] = 10,
) -> None:
    """Is the system ready, and do your threads' read models agree with their events?"""
    with failing_cleanly():
        ok = replay_status(api(), console, limit)
    raise typer.Exit(0 if ok else 1)


def main() -> None:
    app()
