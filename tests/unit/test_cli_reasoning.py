"""The CLI shows a model's reasoning before its answer: dimmed (ANSI) on a terminal, plain
when piped, the answer on a line of its own after it."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console

from switchboard_cli.api import Event
from switchboard_cli.chat import DIM, PLAIN, ChatSession


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def shown(out: io.StringIO) -> str:
    session = ChatSession(api=None, console=Console(file=out), thread_id="t")  # type: ignore[arg-type]
    evs: list[tuple[str, dict[str, Any]]] = [
        ("reasoning", {"text": "Let me "}),
        ("reasoning", {"text": "think."}),
        ("token", {"text": "Hello"}),
        ("token", {"text": " there"}),
    ]
    for name, data in evs:
        session._on(Event(name, data))
    return out.getvalue()


def test_reasoning_is_dimmed_on_a_terminal_then_the_answer() -> None:
    assert shown(Tty()) == f"{DIM}Let me {PLAIN}{DIM}think.{PLAIN}\nHello there"


def test_reasoning_is_plain_when_piped() -> None:
    assert shown(io.StringIO()) == "Let me think.\nHello there"
