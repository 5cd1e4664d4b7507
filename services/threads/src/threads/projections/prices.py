"""Read model `model_prices`: the price an admin last set for a provider's model
(ModelPriceSet), which `queries.usage` reads over the built-in `contracts.prices`."""

from __future__ import annotations

from threads.projections.changes import Changes, Definition, Event, fields
from threads.store.tables import model_prices


def model_price_set(out: Changes, event: Event) -> None:
    d = event.data
    reasoning = ("reasoning_usd_per_mtok",)
    values = fields(d, "input_usd_per_mtok", "output_usd_per_mtok", maybe=reasoning)
    values["set_at"] = event.recorded_at
    out.upsert(model_prices, {**fields(d, "provider", "model"), **values}, set=values)


CHANGES: Definition = {"ModelPriceSet": model_price_set}
