"""The conversation tree of a thread: pure rules over its messages' parents.

A thread's messages form a tree (a parent None is a root; a thread may have several roots once
its first question is edited). The active path runs from a root to the thread's active leaf.
The handlers read the nodes from the messages read model, under the thread stream's lock, so
what they read is what the thread's events say.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from threads.domain.errors import conflict, not_found

STILL_STREAMING = "An answer of this thread is still streaming"


@dataclass(frozen=True)
class Node:
    id: UUID
    parent_id: UUID | None
    role: str
    status: str


@dataclass(frozen=True)
class Tree:
    """Every message of one thread, in creation order, and the leaf its active path ends at."""

    nodes: tuple[Node, ...]
    active_leaf: UUID | None = None

    def node(self, message_id: UUID) -> Node:
        """The message, or not found (another thread's message is as missing as none)."""
        for node in self.nodes:
            if node.id == message_id:
                return node
        raise not_found("Message")

    def children(self, parent_id: UUID | None) -> list[Node]:
        return [n for n in self.nodes if n.parent_id == parent_id]

    def newest_leaf(self, start: UUID | None) -> UUID | None:
        """Below `start` (None: the roots), the most recently created child at each level."""
        below: dict[UUID | None, UUID] = {}
        for node in self.nodes:  # creation order: the last child seen is the newest
            below[node.parent_id] = node.id
        leaf = start
        while leaf in below:
            leaf = below[leaf]
        return leaf

    def path(self, message_id: UUID) -> list[Node]:
        """Root first, down to the message."""
        by_id = {n.id: n for n in self.nodes}
        path: list[Node] = []
        current: UUID | None = self.node(message_id).id
        while current is not None and current in by_id:
            path.append(by_id[current])
            current = by_id[current].parent_id
        return path[::-1]

    def subtree(self, message_id: UUID) -> list[UUID]:
        """The message and everything below it, in creation order."""
        gone = {self.node(message_id).id}
        for node in self.nodes:  # a child is always created after its parent
            if node.parent_id in gone:
                gone.add(node.id)
        return [n.id for n in self.nodes if n.id in gone]

    def without(self, ids: set[UUID]) -> Tree:
        leaf = None if self.active_leaf in ids else self.active_leaf
        return Tree(tuple(n for n in self.nodes if n.id not in ids), leaf)


def require_not_streaming(streaming: bool) -> None:
    """Regenerating or editing while an answer streams would race it for the active leaf."""
    if streaming:
        raise conflict(STILL_STREAMING)
