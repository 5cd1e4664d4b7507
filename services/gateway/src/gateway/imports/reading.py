"""An import file → (source, conversations), every problem found before anything is sent;
then the conversations packed into batches that each fit one NATS message."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from contracts.commands import ImportConversation
from gateway.imports import chatgpt, switchboard
from gateway.imports.problems import ImportProblem


def read(raw: bytes) -> tuple[str, list[ImportConversation]]:
    try:
        data: Any = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ImportProblem(f"the file is not JSON: {exc}") from None
    if isinstance(data, dict) and data.get("format") == switchboard.FORMAT:
        return "switchboard", switchboard.read(data)
    if isinstance(data, dict) and "mapping" in data:
        data = [data]  # one ChatGPT conversation on its own
    if isinstance(data, list):
        conversations = chatgpt.read(data)
        seen: set[str] = set()
        for c in conversations:
            if c.source_id in seen:
                raise ImportProblem(f"conversation {c.source_id!r} appears twice in the file")
            seen.add(c.source_id)
        return "chatgpt", conversations
    raise ImportProblem(
        f"not a Switchboard export ({switchboard.FORMAT}) nor ChatGPT's conversations.json"
    )


def batches(
    conversations: list[ImportConversation], max_bytes: int, alone_bytes: int = 0
) -> Iterator[list[ImportConversation]]:
    """Consecutive batches of at most `max_bytes` of JSON each. A conversation larger than
    that goes in a batch of its own, up to `alone_bytes` (what one NATS message can carry);
    a larger one is refused."""
    batch: list[ImportConversation] = []
    size = 0
    for c in conversations:
        n = len(c.model_dump_json())
        if n > max(max_bytes, alone_bytes):
            raise ImportProblem(
                f"conversation {c.source_id!r} is {n} bytes; one conversation may be at most "
                f"{max(max_bytes, alone_bytes)}"
            )
        if batch and size + n > max_bytes:
            yield batch
            batch, size = [], 0
        batch.append(c)
        size += n
    if batch:
        yield batch
