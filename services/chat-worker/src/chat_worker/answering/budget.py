"""The context budget: which of an answer's ancestors fit in the model's context window.

The window is the thread's own `context_window`, else the well-known table of
`contracts.providers` (None: unknown, everything is sent and only a provider's own
context-length error shortens it). Out of it come the answer's reserve (its `max_tokens`, at
most half the window) and the system prompt; the newest question is always sent; then whole
turns (a question with its answers), newest first, while they fit. The rest is omitted.

Token counts: an assistant message's own `usage.output_tokens`, as its provider counted it;
otherwise an estimate of one token per three bytes of UTF-8. No tokenizer ships its data in a
wheel (tiktoken downloads its BPE files at first use, which this deployment cannot count on),
and one vendor's tokenizer is only an estimate for the others anyway. Three bytes a token
overcounts English prose and code (about four characters a token in cl100k/o200k) by a third,
and comes to about one token per CJK character (three bytes each): a margin on the safe side.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from contracts.providers import known_context_window
from contracts.views import ChatContextView, MessageView

BYTES_PER_TOKEN = 3
MESSAGE_OVERHEAD = 4  # role and separators, per message


def estimate(text: str) -> int:
    return math.ceil(len(text.encode("utf-8", "surrogatepass")) / BYTES_PER_TOKEN)


def message_tokens(message: MessageView) -> int:
    """The provider-reported size of an answer where there is one, else the estimate."""
    usage = message.usage or {}
    reported = usage.get("output_tokens")
    if message.role == "assistant" and message.status == "complete" and isinstance(reported, int):
        return reported + MESSAGE_OVERHEAD
    return estimate(message.content) + MESSAGE_OVERHEAD


def window_of(ctx: ChatContextView, model: str) -> int | None:
    return ctx.thread.context_window or known_context_window(model)


def input_budget(window: int | None, max_tokens: int) -> int | None:
    """The window less the answer's reserve (at most half of it)."""
    if window is None:
        return None
    return window - min(max_tokens, window // 2)


def turns(history: Sequence[MessageView]) -> list[list[MessageView]]:
    """Each turn starts at a question; answers before the first question join the first."""
    grouped: list[list[MessageView]] = []
    for message in history:
        if message.role == "user" or not grouped:
            grouped.append([message])
        else:
            grouped[-1].append(message)
    return grouped


@dataclass(frozen=True)
class Fit:
    kept: list[MessageView]  # sent, oldest first, the newest question last
    omitted: list[MessageView]  # left out, oldest first
    tokens: int  # estimated input: the system prompt and `kept`


def fit(system_tokens: int, history: Sequence[MessageView], budget: int | None) -> Fit:
    """Whole turns, newest first, while system + turns + the newest question fit `budget`."""
    if not history:
        return Fit([], [], system_tokens)
    *earlier, newest = history
    used = system_tokens + message_tokens(newest)
    grouped = turns(earlier)
    keep_from = len(grouped)
    for i in range(len(grouped) - 1, -1, -1):
        size = sum(message_tokens(m) for m in grouped[i])
        if budget is not None and used + size > budget:
            break
        used += size
        keep_from = i
    kept = [m for turn in grouped[keep_from:] for m in turn]
    omitted = [m for turn in grouped[:keep_from] for m in turn]
    return Fit([*kept, newest], omitted, used)


def shrink(system_tokens: int, sent: Fit) -> Fit | None:
    """Less history after a provider's context-length error: about half of what was sent,
    whole turns again; None when only the newest question is left to send."""
    if len(sent.kept) <= 1:
        return None
    smaller = fit(system_tokens, sent.kept, max(system_tokens, sent.tokens // 2))
    if not smaller.omitted:  # half still holds every turn: leave out the oldest one anyway
        smaller = without_oldest_turn(smaller)
    return Fit(smaller.kept, [*sent.omitted, *smaller.omitted], smaller.tokens)


def without_oldest_turn(sent: Fit) -> Fit:
    """The oldest kept turn left out too (never the newest question)."""
    if len(sent.kept) <= 1:
        return sent
    first = turns(sent.kept[:-1])[0]
    tokens = sent.tokens - sum(message_tokens(m) for m in first)
    return Fit(sent.kept[len(first) :], [*sent.omitted, *first], tokens)
