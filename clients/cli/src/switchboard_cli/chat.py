"""The interactive chat: the answer is printed token by token as it streams, after the model's
reasoning when it streams one (dimmed on a terminal, then a line break). Ctrl-C while an
answer streams cancels that answer (POST .../cancel, stored as `cancelled`) and returns to the
prompt; Ctrl-C at the prompt twice in a row (or Ctrl-D, or /exit) leaves. Slash commands work
on the thread's tree: /regenerate, /edit, /branches, /switch, /fork (see HELP)."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from switchboard_cli.api import Api, ApiError, Event
from switchboard_cli.branches import Message, active_path, last_of, preview, versions

TERMINAL = ("message_end", "error", "cancelled")
DIM, PLAIN = "\x1b[2m", "\x1b[0m"
HELP = """\
/regenerate [MODEL]  answer the last question again (optionally with another model)
/edit TEXT           ask the last question again as TEXT; the old version stays
/branches            list the versions of the last message that has more than one
/switch N            follow version N of those (the newest answers below it)
/fork                a new thread holding this conversation as it is now; prints its id
/exit                leave (also Ctrl-D, or Ctrl-C twice)"""


class ChatSession:
    def __init__(self, api: Api, console: Console, thread_id: str) -> None:
        self.api = api
        self.console = console
        self.thread_id = thread_id
        self._reasoning = False  # the answer streamed so far is reasoning, no text yet

    def _write(self, text: str) -> None:
        """Straight to the terminal: no rich buffer that an interrupt could leave half-written."""
        self.console.file.write(text)
        self.console.file.flush()

    def show_header(self) -> None:
        thread = self.api.get(f"/api/threads/{self.thread_id}")
        self.console.print(
            f"[bold]{thread['title']}[/] · {thread['provider']}/{thread['model']} · "
            f"{thread['message_count']} messages  [dim](Ctrl-C stops an answer; twice at the "
            "prompt exits; /help for branches)[/]",
            highlight=False,
        )
        self.show(thread["messages"][-6:])

    def show(self, messages: list[Message]) -> None:
        for message in messages:
            who = "you" if message["role"] == "user" else "ai"
            self.console.print(f"[dim]{who}>[/] ", end="")
            self.console.print(message["content"], markup=False, highlight=False)

    def _on(self, ev: Event) -> None:
        if ev.name == "reasoning":
            text = str(ev.data.get("text", ""))
            self._reasoning = True
            self._write(f"{DIM}{text}{PLAIN}" if self.console.file.isatty() else text)
        elif ev.name == "token":
            if self._reasoning:  # the answer starts on a line of its own
                self._reasoning = False
                self._write("\n")
            self._write(str(ev.data.get("text", "")))
        elif ev.name == "restart":
            self._write("\n[answer restarted]\n")
        elif ev.name == "message_end":
            usage = ev.data.get("usage") or {}
            self.console.print(
                f"\n[dim]({ev.data.get('finish_reason')}, {usage.get('output_tokens', '?')} "
                "tokens)[/]"
            )
        elif ev.name == "error":
            self.console.print(f"\n[red]error {ev.data.get('code')}: {ev.data.get('message')}[/]")
        elif ev.name == "cancelled":
            self.console.print("\n[yellow]\\[cancelled][/]")

    def send(self, content: str) -> str:
        """Post one message and stream its answer; returns how the answer ended."""
        return self.stream(f"/api/threads/{self.thread_id}/chat", {"content": content})

    def regenerate(self, model: str | None) -> str:
        answer = last_of(active_path(self.api, self.thread_id), "assistant")
        if answer is None:
            self.console.print("[yellow]no answer to regenerate yet[/]")
            return "none"
        body = {"model": model} if model else {}
        return self.stream(f"{self._message_url(answer)}/regenerate", body)

    def edit(self, content: str) -> str:
        question = last_of(active_path(self.api, self.thread_id), "user")
        if question is None:
            self.console.print("[yellow]no question to edit yet[/]")
            return "none"
        return self.stream(f"{self._message_url(question)}/edit", {"content": content})

    def branches(self) -> None:
        found = versions(self.api, self.thread_id)
        if found is None:
            self.console.print("[dim]one version of every message: no branches yet[/]")
            return
        kind = "answer" if found.at["role"] == "assistant" else "question"
        self.console.print(f"versions of message {found.depth} ({kind}):")
        for number, m in enumerate(found.siblings, 1):
            mark = "*" if m["id"] == found.at["id"] else " "
            model = f"{m['provider']}/{m['model']}" if m["role"] == "assistant" else "you"
            self.console.print(
                f"{mark} {number}  {model}  {preview(m['content'])}", markup=False, highlight=False
            )
        self.console.print("[dim](/switch N follows one)[/]")

    def switch(self, number: int) -> None:
        found = versions(self.api, self.thread_id)
        if found is None or not 1 <= number <= len(found.siblings):
            count = len(found.siblings) if found else 1
            self.console.print(f"[yellow]no version {number}: there are {count}[/]")
            return
        target = found.siblings[number - 1]
        self.api.put(
            f"/api/threads/{self.thread_id}/active-leaf", json={"message_id": target["id"]}
        )
        self.console.print(f"[dim]on version {number} of {len(found.siblings)}:[/]")
        self.show(active_path(self.api, self.thread_id)[found.depth - 1 :][-2:])

    def fork(self) -> None:
        path = active_path(self.api, self.thread_id)
        if not path:
            self.console.print("[yellow]nothing to fork yet[/]")
            return
        body = {"message_id": path[-1]["id"]}
        forked = self.api.post(f"/api/threads/{self.thread_id}/fork", json=body)
        self.console.print(f"forked into {forked['id']}  [dim](switchboard chat {forked['id']})[/]")

    def _message_url(self, message: Message) -> str:
        return f"/api/threads/{self.thread_id}/messages/{message['id']}"

    def stream(self, path: str, body: dict[str, Any]) -> str:
        """POST and stream the answer; returns how the answer ended."""
        started: dict[str, Any] = {}
        self._reasoning = False
        try:
            with self.api.stream(path, body) as evs:
                self._write("ai> ")
                for ev in evs:
                    if ev.name == "message_start":
                        started = ev.data
                    self._on(ev)
                    if ev.name in TERMINAL:
                        return ev.name
        except KeyboardInterrupt:
            self.cancel(started.get("message_id"))
            return "cancelled"
        self.console.print("\n[red]the stream ended early[/]")
        return "incomplete"

    def cancel(self, message_id: str | None) -> None:
        """Stop the answer being generated (found in the thread if the stream had not said
        which one it was yet)."""
        try:
            if message_id is None:
                messages = self.api.get(f"/api/threads/{self.thread_id}/messages")["messages"]
                streaming = [m for m in messages if m["status"] == "streaming"]
                message_id = streaming[-1]["id"] if streaming else None
            if message_id is not None:
                self.api.post(f"/api/threads/{self.thread_id}/messages/{message_id}/cancel")
            self.console.print("\n[yellow]\\[cancelled][/]")
        except (ApiError, KeyboardInterrupt) as exc:
            self.console.print(f"\n[red]could not cancel: {exc}[/]")

    def loop(self) -> None:
        armed = False  # a Ctrl-C at the prompt was pressed; the next one exits
        while True:
            try:
                line = self.console.input("[bold]you>[/] ")
            except KeyboardInterrupt:
                if armed:
                    self.console.print()
                    return
                armed = True
                try:
                    self.console.print("\n[dim](press Ctrl-C again to exit)[/]")
                except KeyboardInterrupt:  # the second Ctrl-C came while the hint was written
                    return
                continue
            except EOFError:
                self.console.print()
                return
            armed = False
            text = line.strip()
            if text in ("/exit", "/quit"):
                return
            if text.startswith("/"):
                try:
                    self.command(text)
                except ApiError as exc:  # a refused command is a line, not the end
                    self.console.print(f"[red]error: {exc}[/]")
            elif text:
                self.send(line)

    def command(self, text: str) -> None:
        name, _, arg = text.partition(" ")
        arg = arg.strip()
        if name == "/regenerate":
            self.regenerate(arg or None)
        elif name == "/edit" and arg:
            self.edit(arg)
        elif name == "/branches":
            self.branches()
        elif name == "/switch" and arg.isdigit():
            self.switch(int(arg))
        elif name == "/fork":
            self.fork()
        else:
            self.console.print(HELP, markup=False, highlight=False)
