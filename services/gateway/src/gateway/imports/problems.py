"""The one error reading an import file raises: what is wrong, and where (which conversation,
which node), answered as a 400 before anything is sent."""

from __future__ import annotations


class ImportProblem(ValueError):
    pass


def at(conversation: object, node: object | None = None) -> str:
    where = f"conversation {conversation!r}"
    return where if node is None else f"{where}, node {node!r}"
