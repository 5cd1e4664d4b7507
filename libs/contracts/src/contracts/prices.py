"""Built-in prices of a few well-known models, for the usage ledger's `cost_usd`.

USD per million tokens, the vendors' published list prices for standard (non-batch, non-cached,
shortest-context) use as of 2025-08; they change, and an admin's price (`SetModelPrice`) wins
over them. Matched by prefix, the longest first, a `vendor/` prefix (OpenRouter's ids) ignored,
like `providers.KNOWN_CONTEXT_WINDOWS`. A model matching none has no price (cost null).

Reasoning tokens are billed at the output price. Only where the provider counts them apart
from the output tokens (Gemini's `thoughts_token_count`) are they added; OpenAI's and
DeepSeek's completion tokens already include them.
"""

from __future__ import annotations

from typing import NamedTuple

LIST_PRICES_AS_OF = "2025-08"


class Price(NamedTuple):
    input_usd_per_mtok: float
    output_usd_per_mtok: float
    reasoning_usd_per_mtok: float | None = None  # None: the output price


BUILT_IN_PRICES: dict[str, Price] = {
    "claude-opus-4": Price(15.0, 75.0),
    "claude-sonnet-4": Price(3.0, 15.0),
    "claude-3-5-haiku": Price(0.8, 4.0),
    "gpt-4o-mini": Price(0.15, 0.6),
    "gpt-4o": Price(2.5, 10.0),
    "gpt-4.1-mini": Price(0.4, 1.6),
    "gpt-4.1": Price(2.0, 8.0),
    "gemini-2.5-pro": Price(1.25, 10.0),
    "gemini-2.5-flash": Price(0.3, 2.5),
}
_BY_LENGTH = sorted(BUILT_IN_PRICES, key=len, reverse=True)
REASONING_APART: frozenset[str] = frozenset({"google"})  # providers not counting it as output


def built_in_price(model: str) -> Price | None:
    name = model.rpartition("/")[2].lower()
    return next((BUILT_IN_PRICES[p] for p in _BY_LENGTH if name.startswith(p)), None)


def cost_usd(
    price: Price | None, provider: str, input_tokens: int, output_tokens: int, reasoning: int
) -> float | None:
    """What the tokens cost at `price`; None without one."""
    if price is None:
        return None
    per_reasoning = price.reasoning_usd_per_mtok
    if per_reasoning is None:
        per_reasoning = price.output_usd_per_mtok
    if provider not in REASONING_APART:  # counted in the output: billed once, at its price
        reasoning = min(reasoning, output_tokens)
        output_tokens -= reasoning
    total = (
        input_tokens * price.input_usd_per_mtok
        + output_tokens * price.output_usd_per_mtok
        + reasoning * per_reasoning
    )
    return total / 1_000_000
