"""Read model `usage_ledger`: provider-reported usage per user, UTC day, provider, model,
project and task, as counters each usage event adds to (one request, its tokens).

An answer's outcome (completed, failed or cancelled: each counts what the provider reported)
is a `chat` request; a generated title a `title` one; a thread summary a `summary` one. The
keys come from the event, as they were when it happened: the thread's project at the time, so
moving a thread later rewrites no history. An outcome stored before the ledger (`unkeyed`, or
naming no user) reads its user, provider and model from the answer's row, if it is still
there, under no project. The day is that
of the event's `recorded_at`, never the clock, so replay adds up the same rows.

Each usage adds to its rollups too, in the same changes: `usage_daily` (user, day, provider,
model) and `usage_monthly` (user, month, provider, model, project, task), which GET
/api/usage reads where they cover the asked keys.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from threads.projections.changes import Changes, Definition, Event, Ref
from threads.store.tables import messages, usage_daily, usage_ledger, usage_monthly

NO_PROJECT = "00000000-0000-0000-0000-000000000000"  # project_key of usage outside projects
COUNTERS = ("input_tokens", "output_tokens", "reasoning_tokens")
_EPOCH = date(2000, 1, 1)  # replay's timestamps are microseconds since then (`replay.memory`)
_MICROS_A_DAY = 86_400_000_000
_DAYS: dict[int, date] = {}  # replay's days, by microseconds // _MICROS_A_DAY


def day_of(recorded_at: datetime | int) -> date:
    if isinstance(recorded_at, datetime):
        return recorded_at.astimezone(UTC).date()
    day = _DAYS.get(recorded_at // _MICROS_A_DAY)
    if day is None:
        day = _DAYS[recorded_at // _MICROS_A_DAY] = _EPOCH + timedelta(microseconds=recorded_at)
    return day


def counts(usage: Any) -> dict[str, int]:
    """One request and the tokens `usage` reports; a count that is not a whole number of
    tokens (None, a provider's oddity) counts none."""
    usage = usage if isinstance(usage, dict) else {}
    added = {"requests": 1}
    for name in COUNTERS:
        n = usage.get(name)
        added[name] = n if type(n) is int and n > 0 else 0
    return added


def _add(out: Changes, event: Event, task: str, refs: dict[str, Ref] | None = None) -> None:
    d = event.data
    added = counts(d.get("usage"))
    day = day_of(event.recorded_at)
    who = {} if refs else {"user_id": d["user_id"], "provider": d["provider"], "model": d["model"]}
    what = {"project_key": d.get("project_id") or NO_PROJECT, "task": task}
    out.upsert(usage_ledger, {"day": day, **what, **who, **added}, refs, add=added)
    month = {"month": day.replace(day=1), **what, **who, **added}
    out.upsert(usage_monthly, month, refs, add=added)
    out.upsert(usage_daily, {"day": day, **who, **added}, refs, add=added)


def _answer_ended(out: Changes, event: Event) -> None:
    d = event.data
    if not d.get("unkeyed") and d.get("user_id") and d.get("provider") and d.get("model"):
        _add(out, event, "chat")
        return
    key = d["message_id"]
    refs = {c: Ref(messages, key, c) for c in ("user_id", "provider", "model")}
    out.when(messages, key, _add, event, "chat", refs)


def thread_renamed(out: Changes, event: Event) -> None:
    """A generated title with its task's provider and model (a title of before carries none)."""
    d = event.data
    if d.get("generated") and d.get("provider") and d.get("model") and d.get("user_id"):
        _add(out, event, "title")


def thread_summarized(out: Changes, event: Event) -> None:
    d = event.data
    if d.get("provider") and d.get("model") and d.get("user_id"):
        _add(out, event, "summary")


CHANGES: Definition = {
    "AssistantMessageCompleted": _answer_ended,
    "AssistantMessageFailed": _answer_ended,
    "AssistantMessageCancelled": _answer_ended,
    "ThreadRenamed": thread_renamed,
    "ThreadSummarized": thread_summarized,
}
