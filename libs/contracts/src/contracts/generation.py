"""How one answer is generated: the caller's sampling options and the limits on instructions.

`GenerationOptions` travels from the HTTP body (chat, regenerate, edit, `/v1`) in the command,
then in `AssistantMessageRequested` to the worker, which passes each option in its SDK's own
parameter; the answer's `metadata.options` records them. The bounds are the ones every
supported provider accepts, so an out-of-range value is refused before anything is stored.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

INSTRUCTIONS_MAX = 32_000  # characters of a project's or a thread's instructions
MAX_TOKENS_CAP = 200_000
STOP_MAX = 4  # stop sequences (OpenAI's limit, the smallest of the providers')
STOP_CHARS_MAX = 100
StopSequence = Annotated[str, Field(min_length=1, max_length=STOP_CHARS_MAX)]


class GenerationOptions(BaseModel):
    """Every field optional: left out, the provider's default (max_tokens: the worker's)."""

    model_config = ConfigDict(frozen=True, allow_inf_nan=False)

    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    max_tokens: int | None = Field(default=None, ge=1, le=MAX_TOKENS_CAP)
    stop: list[StopSequence] | None = Field(default=None, max_length=STOP_MAX)

    def given(self) -> dict[str, Any]:
        """The options set, as recorded in the answer's `metadata.options`."""
        return self.model_dump(exclude_none=True)
