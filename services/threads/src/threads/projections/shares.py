"""Read model `shares`: each live share link with the snapshot it shows.

The snapshot comes with ThreadShared, so the row is what the thread looked like when shared,
whatever happens to the thread after; revoking the link or deleting the thread removes it.
"""

from __future__ import annotations

from threads.projections.changes import Changes, Definition, Event, deletes, deletes_with, fields
from threads.store.tables import shares


def thread_shared(out: Changes, event: Event) -> None:
    row = fields(event.data, "share_id", "thread_id", "user_id", "title", "messages")
    out.insert(shares, {**row, "created_at": event.recorded_at})


CHANGES: Definition = {
    "ThreadShared": thread_shared,
    "ShareRevoked": deletes(shares, "share_id"),
    "ThreadDeleted": deletes_with(shares, "thread_id"),
}
