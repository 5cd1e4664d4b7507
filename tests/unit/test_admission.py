"""The threads service's single queue in front of the database: at most N handlers at a time,
first come first served, work under way (urgent) ahead of new requests, and a waiter that
gives up never keeps a slot."""

from __future__ import annotations

import asyncio

import pytest

from threads.entrypoints.admission import Admission


async def test_slots_are_handed_out_in_arrival_order_urgent_first() -> None:
    admission = Admission(1)
    order: list[str] = []
    gate = asyncio.Event()

    async def holder() -> None:
        async with admission.slot():
            await gate.wait()

    async def job(name: str, urgent: bool) -> None:
        async with admission.slot(urgent=urgent):
            order.append(name)

    first = asyncio.create_task(holder())
    await asyncio.sleep(0)
    jobs = []
    for name, urgent in [
        ("new-1", False),
        ("new-2", False),
        ("outcome-1", True),
        ("new-3", False),
        ("outcome-2", True),
    ]:
        jobs.append(asyncio.create_task(job(name, urgent)))
        await asyncio.sleep(0)
    gate.set()
    await asyncio.gather(first, *jobs)
    assert order == ["outcome-1", "outcome-2", "new-1", "new-2", "new-3"]


async def test_never_more_than_the_slots_at_once() -> None:
    admission = Admission(3)
    running = peak = 0

    async def job() -> None:
        nonlocal running, peak
        async with admission.slot():
            running += 1
            peak = max(peak, running)
            await asyncio.sleep(0.001)
            running -= 1

    await asyncio.gather(*(job() for _ in range(50)))
    assert peak == 3


async def test_a_cancelled_waiter_keeps_no_slot() -> None:
    admission = Admission(1)
    gate = asyncio.Event()

    async def holder() -> None:
        async with admission.slot():
            await gate.wait()

    async def waiter() -> None:
        async with admission.slot():
            pass

    first = asyncio.create_task(holder())
    await asyncio.sleep(0)
    gone = asyncio.create_task(waiter())
    await asyncio.sleep(0)
    gone.cancel()
    gate.set()
    await first
    with pytest.raises(asyncio.CancelledError):
        await gone
    # The slot is free again: a new request gets it at once.
    await asyncio.wait_for(waiter(), 1.0)
