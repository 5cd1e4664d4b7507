"""The interactive chat: the answer is printed token by token as it streams. Ctrl-C while an
answer streams cancels that answer (POST .../cancel, stored as `cancelled`) and returns to the
prompt; Ctrl-C at the prompt twice in a row (or Ctrl-D, or /exit) leaves."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from switchboard_cli.api import Api, ApiError, Event

TERMINAL = ("message_end", "error", "cancelled")


class ChatSession:
    def __init__(self, api: Api, console: Console, thread_id: str) -> None:
        self.api = api
        self.console = console
        self.thread_id = thread_id

    def _write(self, text: str) -> None:
        """Straight to the terminal: no rich buffer that an interrupt could leave half-written."""
        self.console.file.write(text)
        self.console.file.flush()

    def show_header(self) -> None:
        thread = self.api.get(f"/api/threads/{self.thread_id}")
        self.console.print(
            f"[bold]{thread['title']}[/] · {thread['provider']}/{thread['model']} · "
            f"{thread['message_count']} messages  [dim](Ctrl-C stops an answer; twice at the "
            "prompt exits)[/]",
            highlight=False,
        )
        for message in thread["messages"][-6:]:
            who = "you" if message["role"] == "user" else "ai"
            self.console.print(f"[dim]{who}>[/] ", end="")
            self.console.print(message["content"], markup=False, highlight=False)

    def _on(self, ev: Event) -> None:
        if ev.name == "token":
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
        started: dict[str, Any] = {}
        try:
            with self.api.stream(
                f"/api/threads/{self.thread_id}/chat", {"content": content}
            ) as evs:
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
            if text:
                self.send(line)
