"""The names the domain accepts, listed in the OpenAPI document as enums generated from the
one registry (`contracts.providers`), so the document says what the code enforces.

Validation stays a plain string on purpose: an unknown name is the domain's answer (400 with
the valid options, or 404 for a provider's settings), as the HTTP contract says, not a 422.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated

from pydantic import WithJsonSchema

from contracts.providers import PROVIDER_NAMES, TASKS, THREAD_TYPES
from gateway.storable import Text


def one_of(names: Iterable[str]) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "enum": list(names)})


ProviderName = Annotated[Text, one_of(PROVIDER_NAMES)]
ThreadType = Annotated[Text, one_of(THREAD_TYPES)]
TaskName = Annotated[str, one_of(TASKS)]
