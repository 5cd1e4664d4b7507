"""Titles are plain text: the Markdown of a first message (echo titles) or of a model's reply
is dropped, its words kept."""

from __future__ import annotations

import pytest

from chat_worker.answering.titles import clean_title, strip_markdown
from chat_worker.providers.echo import echo_title


@pytest.mark.parametrize(
    ("markdown", "plain"),
    [
        ("**Plan** the [trip](https://example.com/x)", "Plan the trip"),
        ("# Heading\n## Sub heading", "Heading\nSub heading"),
        ("- one\n* two\n+ three\n1. four\n- [x] done", "one\ntwo\nthree\nfour\ndone"),
        ("> quoted *words* and __strong__", "quoted words and strong"),
        ("use `uv run` and ~~old~~ ***both***", "use uv run and old both"),
        ("```python\nprint(1)\n```", "\nprint(1)\n"),
        ("| a | b |\n|---|:-:|\n| 1 | 2 |", "a b \n\n1 2 "),
        ("![a chart](chart.png) of sales", "a chart of sales"),
        ("2 * 3 * 4 and snake_case stay", "2 * 3 * 4 and snake_case stay"),
    ],
)
def test_strip_markdown(markdown: str, plain: str) -> None:
    assert strip_markdown(markdown) == plain


def test_a_title_from_a_first_message_has_no_markup() -> None:
    question = "## **Glacier** facts:\n\n- how `fast` do they move"
    assert echo_title(strip_markdown(question)) == "Glacier facts: how fast do they"


@pytest.mark.parametrize(
    ("raw", "title"),
    [
        ("# **Team Offsite**", "Team Offsite"),
        ("```\nBudget *Planning*\n```", "Budget Planning"),
        ("Title: [Roadmap](https://example.com) review", "Roadmap review"),
    ],
)
def test_a_models_title_has_no_markup(raw: str, title: str) -> None:
    assert clean_title(raw) == title
