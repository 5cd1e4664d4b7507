"""`switchboard-threads prices set PROVIDER MODEL --input X --output Y [--reasoning Z]`: an
admin's price of a model (USD per million tokens) as a SetModelPrice command, run through the
unit of work like any other (the outbox relays its event once the service runs)."""

from __future__ import annotations

from contracts.base import Envelope
from contracts.commands import SetModelPrice
from threads.bootstrap import build_engine, build_projector
from threads.config import Settings
from threads.handlers import set_model_price
from threads.store.unit_of_work import UnitOfWork


async def run_set_price(
    settings: Settings,
    provider: str,
    model: str,
    input_price: float,
    output_price: float,
    reasoning_price: float | None,
) -> int:
    command = SetModelPrice(
        meta=Envelope(),
        provider=provider,
        model=model,
        input_usd_per_mtok=input_price,
        output_usd_per_mtok=output_price,
        reasoning_usd_per_mtok=reasoning_price,
    )
    engine = build_engine(settings)
    try:
        reply = await UnitOfWork(engine, build_projector()).run(command, set_model_price.handle)
    finally:
        await engine.dispose()
    if not reply.ok:
        print(reply.error.detail if reply.error else "refused")
        return 1
    print(reply.data["message"] if isinstance(reply.data, dict) else reply.data)
    return 0
