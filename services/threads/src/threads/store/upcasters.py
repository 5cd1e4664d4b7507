"""Upcasting: old stored event shapes read as the current shape.

The event-sourced form of a migration with a backfill: stored rows never change; readers see
every event at its class's current `schema_version`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from contracts.providers import DEFAULT_PROVIDER, DEFAULT_THREAD_TYPE, PROVIDERS

Data = dict[str, Any]
Upcaster = Callable[[Data], Data]


def _thread_created_v1_to_v2(data: Data) -> Data:
    """Before providers and thread types existed every thread talked to Anthropic."""
    provider = data.get("model_provider") or DEFAULT_PROVIDER
    return {
        **data,
        "model_provider": provider,
        "model": data.get("model") or PROVIDERS[provider].default_model,
        "thread_type": data.get("thread_type") or DEFAULT_THREAD_TYPE,
        "agent_type": data.get("agent_type") or "chat",
    }


def _thread_created_v2_to_v3(data: Data) -> Data:
    """v2 named the thread's provider `model_provider`; every other event says `provider`."""
    renamed = {**data, "provider": data["model_provider"]}
    del renamed["model_provider"]
    return renamed


def _chained(data: Data) -> Data:
    """Before the conversation tree every thread was one chain: a message followed the one
    before it, and a deletion took out one link. `chained` says so; the projections read it."""
    return {**data, "chained": True}


def _unkeyed(data: Data) -> Data:
    """An answer's outcome before the usage ledger named no user, provider, model or project:
    `projections.usage` reads them from the answer's row instead."""
    return {**data, "unkeyed": True}


def _no_usage(data: Data) -> Data:
    """A title before the usage ledger: its usage was never recorded."""
    return {**data, "provider": None, "model": None, "usage": None}


# (event type, from version) -> function producing version + 1
UPCASTERS: dict[tuple[str, int], Upcaster] = {
    ("ThreadCreated", 1): _thread_created_v1_to_v2,
    ("ThreadCreated", 2): _thread_created_v2_to_v3,
    ("MessagePosted", 1): _chained,
    ("UserMessagePosted", 1): _chained,
    ("MessageDeleted", 1): _chained,
    ("AssistantMessageCompleted", 1): _unkeyed,
    ("AssistantMessageFailed", 1): _unkeyed,
    ("AssistantMessageCancelled", 1): _unkeyed,
    ("ThreadRenamed", 1): _no_usage,
}


def upcast(event_type: str, schema_version: int, data: Data) -> tuple[int, Data]:
    """Apply upcasters until no more apply; returns the final version and data."""
    while (step := UPCASTERS.get((event_type, schema_version))) is not None:
        data = step(data)
        schema_version += 1
    return schema_version, data
