"""Input text and JSON refused as invalid when Postgres could not store it (the rule is
`contracts.text.problem`), rather than failing inside the transaction."""

from __future__ import annotations

from typing import Any

from contracts.generation import INSTRUCTIONS_MAX, GenerationOptions
from contracts.text import MAX_JSON_DEPTH, problem
from threads.domain.errors import invalid


def require_text(value: str, field: str) -> str:
    if problem(value) is not None:
        raise invalid(f"{field} contains characters that cannot be stored (NUL or invalid UTF-8)")
    return value


def require_json(value: Any, field: str, depth: int = 0) -> Any:
    """Every key and string of a JSON value storable, nesting at most MAX_JSON_DEPTH deep."""
    if depth > MAX_JSON_DEPTH:
        raise invalid(f"{field} is nested deeper than {MAX_JSON_DEPTH} levels")
    if isinstance(value, str):
        require_text(value, field)
    elif isinstance(value, dict):
        for key, item in value.items():
            require_text(str(key), field)
            require_json(item, field, depth + 1)
    elif isinstance(value, list):
        for item in value:
            require_json(item, field, depth + 1)
    return value


def require_instructions(value: str | None) -> str | None:
    """A project's or a thread's instructions: at most INSTRUCTIONS_MAX characters; blank
    ones are none."""
    if value is None or not value.strip():
        return None
    if len(value) > INSTRUCTIONS_MAX:
        raise invalid(f"instructions are longer than {INSTRUCTIONS_MAX} characters")
    return require_text(value, "instructions")


def require_options(options: GenerationOptions | None) -> GenerationOptions | None:
    """Generation options as recorded: none given is none; stop sequences storable."""
    if options is None or not options.given():
        return None
    for stop in options.stop or ():
        require_text(stop, "stop")
    return options
