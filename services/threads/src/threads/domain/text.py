"""What every stored string must be: storable as Postgres text and JSONB.

Postgres refuses NUL characters in text and JSONB, and lone surrogates cannot be encoded as
UTF-8; both are refused here as invalid input rather than failing inside the transaction.
"""

from __future__ import annotations

from typing import Any

from threads.domain.errors import invalid

MAX_JSON_DEPTH = 32


def storable(value: str) -> bool:
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def require_text(value: str, field: str) -> str:
    if not storable(value):
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
