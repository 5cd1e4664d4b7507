"""What request text and JSON values must be to be stored exactly as given, checked at the edge
so that bad input is a 422 and never a failure (or a silent change) further down.

Strings follow `contracts.text.problem`, the rule every service stores by. JSON numbers
must be finite (NaN and Infinity are not JSON) and integers must fit in 64 bits, the most the
message bus's JSON decoder keeps exactly; so must large floats, which JSONB turns into integers.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import AfterValidator, SecretStr

from contracts.text import MAX_JSON_DEPTH, encoding_problem, problem

INT64 = range(-(2**63), 2**63)


def storable_text(value: str) -> str:
    reason = problem(value)
    if reason is not None:
        raise ValueError(reason)
    return value


def encodable_password(value: str) -> str:
    """A password is only hashed, never stored as text: any UTF-8 it can be encoded to will do."""
    reason = encoding_problem(value)
    if reason is not None:
        raise ValueError(reason)
    return value


def storable_secret(value: SecretStr) -> SecretStr:
    """A secret is stored too (sealed, as UTF-8): the same rule, without echoing the value."""
    storable_text(value.get_secret_value())
    return value


def _check(item: Any, depth: int) -> None:
    if depth > MAX_JSON_DEPTH:
        raise ValueError(f"must not nest deeper than {MAX_JSON_DEPTH} levels")
    if isinstance(item, str):
        storable_text(item)
    elif isinstance(item, bool):
        return
    elif isinstance(item, int) and item not in INT64:
        raise ValueError("integers must fit in 64 bits")
    elif isinstance(item, float) and not math.isfinite(item):
        raise ValueError("numbers must be finite (no NaN or Infinity)")
    elif isinstance(item, float) and abs(item) >= 2**63:
        # JSONB keeps 1e19 as the integer 10000000000000000000, which no longer fits.
        raise ValueError("numbers must be within the 64-bit integer range")
    elif isinstance(item, dict):
        for key, inner in item.items():
            storable_text(key)
            _check(inner, depth + 1)
    elif isinstance(item, list):
        for inner in item:
            _check(inner, depth + 1)


def storable_json(value: dict[str, Any] | None) -> dict[str, Any] | None:
    """Every key and string storable, every number exact, nesting at most MAX_JSON_DEPTH."""
    _check(value, 0)
    return value


Text = Annotated[str, AfterValidator(storable_text)]
Secret = Annotated[SecretStr, AfterValidator(storable_secret)]
Password = Annotated[str, AfterValidator(encodable_password)]
JsonObject = Annotated[dict[str, Any] | None, AfterValidator(storable_json)]
