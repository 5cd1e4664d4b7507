"""A thread's context settings: its own context window and what a too-long history becomes.

Set on create and by PATCH as one ThreadContextConfigured holding both settings as they are
afterwards, only when something differs from what the thread has (a new thread: the defaults).
A summary the worker's `summary` task made is recorded as ThreadSummarized.
"""

from __future__ import annotations

from uuid import UUID

from contracts.commands import CreateThread, RecordThreadSummary, UpdateThread
from contracts.events import ThreadContextConfigured, ThreadSummarized
from contracts.providers import CONTEXT_POLICIES, DEFAULT_CONTEXT_POLICY
from threads.domain.errors import invalid
from threads.domain.text import require_json, require_text
from threads.domain.thread import ThreadState, require_owned

MAX_CONTEXT_WINDOW = 100_000_000  # far above any model's; keeps the column an integer


def _window(value: int | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise invalid("context_window must be a positive integer (tokens) or null")
    if value > MAX_CONTEXT_WINDOW:
        raise invalid(f"context_window is larger than {MAX_CONTEXT_WINDOW}")
    return value


def _policy(value: str) -> str:
    if value not in CONTEXT_POLICIES:
        raise invalid(f"Invalid context_policy. Valid options: {', '.join(CONTEXT_POLICIES)}")
    return value


def decide_on_create(cmd: CreateThread) -> list[ThreadContextConfigured]:
    window = _window(cmd.context_window)
    policy = _policy(cmd.context_policy or DEFAULT_CONTEXT_POLICY)
    if window is None and policy == DEFAULT_CONTEXT_POLICY:
        return []
    return [
        ThreadContextConfigured(
            thread_id=cmd.thread_id, context_window=window, context_policy=policy
        )
    ]


def decide_on_update(state: ThreadState, cmd: UpdateThread) -> list[ThreadContextConfigured]:
    """Checked before any other change of the same PATCH is appended: all or nothing."""
    window = _window(cmd.context_window) if cmd.context_window_set else state.context_window
    policy = _policy(cmd.context_policy) if cmd.context_policy is not None else None
    policy = policy or state.context_policy
    if window == state.context_window and policy == state.context_policy:
        return []
    return [
        ThreadContextConfigured(
            thread_id=state.thread_id, context_window=window, context_policy=policy
        )
    ]


def decide_record_summary(
    state: ThreadState | None, cmd: RecordThreadSummary, *, user_id: UUID | None
) -> list[ThreadSummarized]:
    """With the usage ledger's keys: the summary task's provider and model (from the worker),
    the thread's user and its project now, so the summary counts as task `summary`."""
    current = require_owned(state, user_id)
    if cmd.summarized_messages <= 0 or not cmd.text.strip():
        raise invalid("A summary needs text and at least one message")
    return [
        ThreadSummarized(
            thread_id=current.thread_id,
            through_message_id=cmd.through_message_id,
            text=require_text(cmd.text, "text"),
            summarized_messages=cmd.summarized_messages,
            message_id=cmd.message_id,
            usage=require_json(cmd.usage, "usage"),
            provider=cmd.provider,
            model=cmd.model,
            user_id=current.user_id,
            project_id=current.project_id,
        )
    ]
