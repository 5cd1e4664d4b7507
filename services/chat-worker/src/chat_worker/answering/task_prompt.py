"""A one-shot task prompt (a title, a summary) run through the model the user routes the task
to, else the thread's own: its whole text and the provider's usage, for the usage ledger."""

from __future__ import annotations

import asyncio
from typing import Any, NamedTuple

from chat_worker.credentials import CredentialResolver
from chat_worker.providers.base import ChatRequest, StreamResult, answer_text
from chat_worker.providers.registry import ProviderRegistry
from contracts.base import Envelope
from contracts.views import ChatContextView, TaskRouteView


class TaskReply(NamedTuple):
    text: str
    usage: dict[str, Any] | None


def task_model(ctx: ChatContextView, route: TaskRouteView | None) -> tuple[str, str]:
    """(provider, model) for a task: its route, else the thread's."""
    return (route.provider, route.model) if route else (ctx.thread.provider, ctx.thread.model)


async def run_task_prompt(
    registry: ProviderRegistry,
    credentials: CredentialResolver,
    meta: Envelope,
    provider: str,
    chat: ChatRequest,
    timeout: float,
) -> TaskReply:
    """The reply's text (reasoning left out) within `timeout`; raises ProviderError or
    TimeoutError as the call does."""
    creds = await credentials.resolve(meta, provider)
    adapter = registry.get(provider)
    result = StreamResult()
    text = await asyncio.wait_for(answer_text(adapter.stream_chat(creds, chat, result)), timeout)
    return TaskReply(text, result.usage)
