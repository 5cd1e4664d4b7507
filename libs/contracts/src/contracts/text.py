"""What every stored string must be, for every service: storable as Postgres text and JSONB.

Postgres refuses NUL characters in text and JSONB, and lone surrogates cannot be encoded as
UTF-8. Input is checked against `problem` (and refused as a 4xx at the edge, or as `invalid`
by the threads service); generated text, which must be stored whatever a provider sent, is
made storable with `make_storable` (so what is streamed is what is stored).
"""

from __future__ import annotations

MAX_JSON_DEPTH = 32  # nesting a stored JSON value may have
DEFAULT_TITLE = "New Chat"  # a thread's title until it is named or one is generated


def encoding_problem(value: str) -> str | None:
    """Why `value` has no UTF-8 form (a lone surrogate), or None when it has one."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid UTF-8 (no lone surrogates)"
    return None


def problem(value: str) -> str | None:
    """Why `value` cannot be stored as it is, or None when it can."""
    if "\x00" in value:
        return "must not contain NUL characters"
    return encoding_problem(value)


def make_storable(text: str) -> str:
    """`text` without what Postgres refuses: NULs dropped, lone surrogates replaced."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text
