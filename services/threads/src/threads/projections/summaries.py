"""Read model `thread_summaries`: the summaries the `summary` task made of a thread's oldest
turns, one per message they run through. The chat context hands an answer the newest one
among its ancestors; a thread deleted takes its summaries with it."""

from __future__ import annotations

from threads.projections.changes import Changes, Definition, Event, deletes_with, fields
from threads.store.tables import thread_summaries


def thread_summarized(out: Changes, event: Event) -> None:
    """The same path summarized again (another answer below it) keeps the newer text."""
    d = event.data
    values = fields(d, "text", "summarized_messages", maybe=("usage",))
    values["created_at"] = event.recorded_at
    row = {**fields(d, "thread_id", "through_message_id"), **values}
    out.upsert(thread_summaries, row, set=values)


CHANGES: Definition = {
    "ThreadSummarized": thread_summarized,
    "ThreadDeleted": deletes_with(thread_summaries, "thread_id"),
}
