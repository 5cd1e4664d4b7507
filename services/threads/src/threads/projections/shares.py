"""Read model `shares`: each live share link with the snapshot it shows.

The snapshot comes with ThreadShared, so the row is what the thread looked like when shared,
whatever happens to the thread after; revoking the link or deleting the thread removes it.
"""

from __future__ import annotations

from threads.projections.changes import Changes, Definition, Event
from threads.store.tables import shares


def thread_shared(out: Changes, event: Event) -> None:
    d = event.data
    row = {
        "share_id": d["share_id"],
        "thread_id": d["thread_id"],
        "user_id": d["user_id"],
        "title": d["title"],
        "messages": d["messages"],
        "created_at": event.recorded_at,
    }
    out.insert(shares, row)


def share_revoked(out: Changes, event: Event) -> None:
    out.delete(shares, event.data["share_id"])


def thread_deleted(out: Changes, event: Event) -> None:
    out.delete_where(shares, "thread_id", event.data["thread_id"])


CHANGES: Definition = {
    "ThreadShared": thread_shared,
    "ShareRevoked": share_revoked,
    "ThreadDeleted": thread_deleted,
}
