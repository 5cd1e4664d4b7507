"""Read model `model_prices`: the price an admin last set for a provider's model
(ModelPriceSet), which `queries.usage` reads over the built-in `contracts.prices`."""

from __future__ import annotations

from threads.projections.changes import Changes, Definition, Event
from threads.store.tables import model_prices


def model_price_set(out: Changes, event: Event) -> None:
    d = event.data
    values = {
        "input_usd_per_mtok": d["input_usd_per_mtok"],
        "output_usd_per_mtok": d["output_usd_per_mtok"],
        "reasoning_usd_per_mtok": d.get("reasoning_usd_per_mtok"),
        "set_at": event.recorded_at,
    }
    out.upsert(model_prices, {"provider": d["provider"], "model": d["model"], **values}, set=values)


CHANGES: Definition = {"ModelPriceSet": model_price_set}
