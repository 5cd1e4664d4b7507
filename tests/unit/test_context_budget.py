"""The context budget (chat_worker.answering.budget) and the table of well-known windows."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from chat_worker.answering import budget
from contracts.providers import known_context_window
from contracts.views import MessageView

NOW = datetime.now(UTC)
THREAD = uuid.uuid4()


def message(role: str, content: str, **extra: Any) -> MessageView:
    fields: dict[str, Any] = {
        "id": uuid.uuid4(),
        "thread_id": THREAD,
        "role": role,
        "content": content,
        "artifact_data": None,
        "metadata": None,
        "status": "complete",
        "provider": None,
        "model": None,
        "usage": None,
        "created_at": NOW,
        **extra,
    }
    return MessageView(**fields)


def chain(turns: int, size: int = 300) -> list[MessageView]:
    out = []
    for i in range(turns):
        out += [message("user", f"q{i} " + "x" * size), message("assistant", f"a{i} " + "y" * size)]
    return out


def test_whole_turns_newest_first_and_the_question_always() -> None:
    history = [*chain(10), message("user", "newest")]
    per_turn = 2 * budget.message_tokens(history[0])
    question = budget.message_tokens(history[-1])
    fitted = budget.fit(50, history, 50 + question + 3 * per_turn)
    assert fitted.kept == history[-7:]  # three whole turns and the question
    assert fitted.omitted == history[:-7]
    assert fitted.tokens == 50 + question + 3 * per_turn


def test_even_a_window_too_small_for_any_turn_sends_the_question() -> None:
    history = [*chain(3), message("user", "newest")]
    fitted = budget.fit(10_000, history, 100)
    assert fitted.kept == [history[-1]] and len(fitted.omitted) == 6


def test_no_window_sends_everything() -> None:
    history = [*chain(50), message("user", "newest")]
    assert budget.fit(10, history, None).kept == history


def test_a_reported_output_count_is_used_for_an_answer() -> None:
    counted = message("assistant", "z" * 3000, usage={"input_tokens": 9, "output_tokens": 7})
    assert budget.message_tokens(counted) == 7 + budget.MESSAGE_OVERHEAD
    unanswered = message("user", "z" * 3000, usage={"output_tokens": 7})
    assert budget.message_tokens(unanswered) == 1000 + budget.MESSAGE_OVERHEAD


def test_the_estimate_counts_bytes_so_cjk_weighs_more() -> None:
    assert budget.estimate("a" * 300) == 100
    assert budget.estimate("漢" * 100) == 100  # three bytes a character


def test_the_reserve_is_the_answer_at_most_half_the_window() -> None:
    assert budget.input_budget(100_000, 4096) == 100_000 - 4096
    assert budget.input_budget(1000, 4096) == 500
    assert budget.input_budget(None, 4096) is None


def test_shrink_leaves_out_older_turns_and_stops_at_the_question() -> None:
    history = [*chain(6), message("user", "newest")]
    sent = budget.fit(10, history, None)
    smaller = budget.shrink(10, sent)
    assert smaller is not None and 1 < len(smaller.kept) < len(history)
    assert smaller.kept[-1] == history[-1] and smaller.kept[0].role == "user"
    assert smaller.omitted + smaller.kept == history
    alone = budget.fit(10, [message("user", "only")], None)
    assert budget.shrink(10, alone) is None


def test_known_windows_by_longest_prefix() -> None:
    assert known_context_window("gpt-4o-mini") == 128_000
    assert known_context_window("gpt-4.1-nano") == 1_047_576
    assert known_context_window("o1-mini-2024") == 128_000
    assert known_context_window("o1-preview") == 200_000
    assert known_context_window("gemini-1.5-pro-002") == 2_097_152
    assert known_context_window("anthropic/claude-3-haiku") == 200_000
    assert known_context_window("deepseek-reasoner") == 128_000
    assert known_context_window("llama3.2") is None
    assert known_context_window("openrouter/auto") is None
